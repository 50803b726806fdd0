package kmsapi

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Hand-built wire bytes, written with protowire primitives only, so the
// decoder is checked against the schema and not against our own encoder.

func tagBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func tagVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func handNodeStatus() []byte {
	var dur []byte
	dur = tagVarint(dur, 1, 3723) // seconds
	dur = tagVarint(dur, 2, 5)    // nanos
	var st []byte
	st = tagBytes(st, 1, []byte("2025-10-01T00-00-00Z"))
	st = tagBytes(st, 2, []byte("v1")) // api_version: known to the schema, not kept
	st = tagBytes(st, 3, []byte("10.213.0.11:7373"))
	st = tagBytes(st, 4, dur)
	st = tagBytes(st, 5, []byte("Leader"))
	st = tagVarint(st, 6, 42)                                                           // commit: skipped
	st = tagBytes(st, 7, tagBytes(tagVarint(nil, 1, 2), 2, []byte("10.213.0.12:7373"))) // nodes
	st = tagVarint(st, 8, 1)
	st = tagVarint(st, 9, protowire.EncodeZigZag(1))
	st = protowire.AppendTag(st, 10, protowire.Fixed64Type) // unknown fixed64: skipped
	st = protowire.AppendFixed64(st, 7)
	st = tagBytes(st, 19, []byte("local"))
	st = tagBytes(st, 19, []byte("vault:transit/minkms-sealing-key"))
	st = tagBytes(st, 20, []byte("local"))
	st = tagBytes(st, 99, []byte("future field")) // unknown: skipped
	return st
}

func handClusterStatus() []byte {
	var up []byte
	up = tagVarint(up, 1, 1)
	up = tagBytes(up, 2, handNodeStatus())
	var follower []byte
	follower = tagBytes(follower, 5, []byte("Follower"))
	follower = tagVarint(follower, 9, protowire.EncodeZigZag(-1)) // no leader; no node_id: key is the ID
	var up2 []byte
	up2 = tagVarint(up2, 1, 2)
	up2 = tagBytes(up2, 2, follower)
	var down []byte
	down = tagVarint(down, 1, 3)
	down = tagBytes(down, 2, []byte("10.213.0.13:7373"))
	var b []byte
	b = tagBytes(b, 1, up)
	b = tagBytes(b, 1, up2)
	b = tagBytes(b, 2, down)
	return b
}

func wantClusterStatus() *ClusterStatus {
	return &ClusterStatus{
		Up: map[uint32]NodeStatus{
			1: {
				ID: 1, Host: "10.213.0.11:7373", Version: "2025-10-01T00-00-00Z", Role: "Leader", LeaderID: 1,
				Uptime: time.Hour + 2*time.Minute + 3*time.Second + 5, Nodes: map[uint32]string{2: "10.213.0.12:7373"},
				HSM: []string{"local", "vault:transit/minkms-sealing-key"}, HSMActive: []string{"local"},
			},
			2: {ID: 2, Role: "Follower", LeaderID: -1},
		},
		Down: map[uint32]string{3: "10.213.0.13:7373"},
	}
}

func TestUnmarshalHandBuilt(t *testing.T) {
	var got ClusterStatus
	if err := got.UnmarshalBinary(handClusterStatus()); err != nil {
		t.Fatal(err)
	}
	if want := wantClusterStatus(); !reflect.DeepEqual(&got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, *want)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	want := wantClusterStatus()
	b, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got ClusterStatus
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, *want)
	}
}

func TestUnmarshalRejectsBadWire(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"truncated tag", []byte{0x80}},
		{"length past end", []byte{0x0a, 0x05, 0x01}},
		{"nodes_up as varint", tagVarint(nil, 1, 7)},
		{"node_id as string", tagBytes(nil, 1, tagBytes(tagVarint(nil, 1, 1), 2, tagBytes(nil, 8, []byte("x"))))},
		{"host not UTF-8", tagBytes(nil, 1, tagBytes(tagVarint(nil, 1, 1), 2, tagBytes(nil, 3, []byte{0xff})))},
		{"field number zero", []byte{0x02, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s ClusterStatus
			if err := s.UnmarshalBinary(tt.in); !errors.Is(err, ErrProto) {
				t.Fatalf("err = %v, want ErrProto", err)
			}
		})
	}
}

func TestDurationSaturates(t *testing.T) {
	huge := tagVarint(nil, 1, 1<<62)
	d, err := decodeDuration(huge, 0)
	if err != nil || d <= 0 || d < 100*365*24*time.Hour {
		t.Fatalf("decodeDuration(huge) = %v, %v; want saturated positive", d, err)
	}
	neg := tagVarint(nil, 1, uint64(1<<64-5)) // -5 seconds
	if d, err := decodeDuration(neg, 0); err != nil || d != -5*time.Second {
		t.Fatalf("decodeDuration(-5s) = %v, %v", d, err)
	}
}

func TestDecodeFrames(t *testing.T) {
	payload := handClusterStatus()
	one, _ := AppendFrame(nil, CmdClusterStatus, payload)
	two, _ := AppendFrame(append([]byte(nil), one...), CmdClusterStatus, nil)
	tests := []struct {
		name    string
		in      []byte
		frames  int
		wantErr bool
	}{
		{"one frame", one, 1, false},
		{"two frames", two, 2, false},
		{"empty body", nil, 0, true},
		{"short header", []byte{0, 3, 0}, 0, true},
		{"wrong command", []byte{0, 4, 0, 0, 0, 0}, 0, true},
		{"length past end", []byte{0, 3, 0, 0, 0, 9, 1}, 0, true},
		{"trailing garbage", append(append([]byte(nil), one...), 0, 3), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr, err := DecodeFrames(tt.in, CmdClusterStatus)
			if tt.wantErr {
				if !errors.Is(err, ErrFrame) {
					t.Fatalf("err = %v, want ErrFrame", err)
				}
				return
			}
			if err != nil || len(fr) != tt.frames {
				t.Fatalf("got %d frames, err %v; want %d", len(fr), err, tt.frames)
			}
		})
	}
}

func TestRequestFrameBytes(t *testing.T) {
	got, err := AppendFrame(nil, CmdClusterStatus, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x00, 0x03, 0x00, 0x00, 0x00, 0x00}; !reflect.DeepEqual(got, want) {
		t.Fatalf("request frame = % x, want % x", got, want)
	}
}
