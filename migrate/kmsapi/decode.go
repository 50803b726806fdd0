package kmsapi

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the messages kmsctl reads, from the public response.proto
// of the key manager SDK (ClusterStatusResponse, ServerStatusResponse,
// ErrResponse, VersionResponse) and google/protobuf/duration.proto.
const (
	fieldClusterNodesUp   protowire.Number = 1 // map<uint32, ServerStatusResponse>
	fieldClusterNodesDown protowire.Number = 2 // map<uint32, string>

	fieldStatusVersion  protowire.Number = 1 // string
	fieldStatusHost     protowire.Number = 3 // string
	fieldStatusUptime   protowire.Number = 4 // google.protobuf.Duration
	fieldStatusRole     protowire.Number = 5 // string
	fieldStatusNodes    protowire.Number = 7 // map<uint32, string>
	fieldStatusNodeID   protowire.Number = 8 // uint32
	fieldStatusLeaderID protowire.Number = 9 // sint64, negative: no leader

	// FieldStatusHSM and FieldStatusHSMActive carry the HSM lists. They are
	// not in the public .proto we have: the numbering is UNCONFIRMED (see
	// docs/design.md) and agreed with the lab's stand-in; change both sides
	// together once the real numbers are known.
	FieldStatusHSM       protowire.Number = 19 // repeated string: HSMs with a sealed REK entry
	FieldStatusHSMActive protowire.Number = 20 // repeated string: HSMs configured

	fieldMapKey   protowire.Number = 1
	fieldMapValue protowire.Number = 2

	fieldDurationSeconds protowire.Number = 1 // int64
	fieldDurationNanos   protowire.Number = 2 // int32

	fieldErrMessage     protowire.Number = 1 // ErrResponse.message
	fieldVersionVersion protowire.Number = 1 // VersionResponse.version
)

// ErrProto is wrapped by every error about an undecodable protobuf payload.
var ErrProto = errors.New("kmsapi: invalid protobuf")

// field is one decoded protobuf field: the value of a varint field, or the
// content of a length-delimited one. Fixed-width and group fields are
// skipped by walk, since no message kmsctl reads uses them.
type field struct {
	num    protowire.Number
	typ    protowire.Type
	varint uint64
	bytes  []byte
}

// walk calls fn for every field of the message b in wire order, so that
// repeated fields append and later scalar values override earlier ones, as
// protobuf requires. Unknown fields reach fn too; callers ignore them.
func walk(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: tag: %v", ErrProto, protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.varint, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.bytes, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %v", ErrProto, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// wantType fails when a known field arrives with another wire type, which
// means client and server disagree about the schema.
func (f field) wantType(t protowire.Type) error {
	if f.typ != t {
		return fmt.Errorf("%w: field %d has wire type %d, want %d", ErrProto, f.num, f.typ, t)
	}
	return nil
}

// str returns a proto3 string field, which must be valid UTF-8.
func (f field) str() (string, error) {
	if err := f.wantType(protowire.BytesType); err != nil {
		return "", err
	}
	if !utf8.Valid(f.bytes) {
		return "", fmt.Errorf("%w: field %d is not valid UTF-8", ErrProto, f.num)
	}
	return string(f.bytes), nil
}

// UnmarshalBinary decodes a ClusterStatusResponse protobuf message (the
// payload of a ClusterStatus frame, without the frame header).
func (s *ClusterStatus) UnmarshalBinary(b []byte) error {
	*s = ClusterStatus{Up: map[uint32]NodeStatus{}, Down: map[uint32]string{}}
	return walk(b, func(f field) error {
		switch f.num {
		case fieldClusterNodesUp:
			id, st, err := decodeUpEntry(f)
			if err != nil {
				return fmt.Errorf("nodes_up: %w", err)
			}
			s.Up[id] = st
		case fieldClusterNodesDown:
			id, addr, err := decodeStringEntry(f)
			if err != nil {
				return fmt.Errorf("nodes_down: %w", err)
			}
			s.Down[id] = addr
		}
		return nil
	})
}

// decodeUpEntry decodes one map<uint32, ServerStatusResponse> entry. When
// the node status omits node_id (proto3 drops zeros), the map key is its ID.
func decodeUpEntry(f field) (uint32, NodeStatus, error) {
	if err := f.wantType(protowire.BytesType); err != nil {
		return 0, NodeStatus{}, err
	}
	var key uint32
	var value []byte
	err := walk(f.bytes, func(e field) error {
		switch e.num {
		case fieldMapKey:
			if err := e.wantType(protowire.VarintType); err != nil {
				return err
			}
			key = uint32(e.varint)
		case fieldMapValue:
			if err := e.wantType(protowire.BytesType); err != nil {
				return err
			}
			value = append(value, e.bytes...) // repeated occurrences of a message merge
		}
		return nil
	})
	if err != nil {
		return 0, NodeStatus{}, err
	}
	st, hasID, err := decodeNodeStatus(value)
	if err != nil {
		return 0, NodeStatus{}, fmt.Errorf("node %d: %w", key, err)
	}
	if !hasID {
		st.ID = key
	}
	return key, st, nil
}

// decodeStringEntry decodes one map<uint32, string> entry.
func decodeStringEntry(f field) (uint32, string, error) {
	if err := f.wantType(protowire.BytesType); err != nil {
		return 0, "", err
	}
	var key uint32
	var value string
	err := walk(f.bytes, func(e field) error {
		var err error
		switch e.num {
		case fieldMapKey:
			if err = e.wantType(protowire.VarintType); err == nil {
				key = uint32(e.varint)
			}
		case fieldMapValue:
			value, err = e.str()
		}
		return err
	})
	return key, value, err
}

// decodeNodeStatus decodes a ServerStatusResponse; hasID reports whether
// node_id was present.
func decodeNodeStatus(b []byte) (st NodeStatus, hasID bool, err error) {
	err = walk(b, func(f field) error {
		var err error
		switch f.num {
		case fieldStatusVersion:
			st.Version, err = f.str()
		case fieldStatusHost:
			st.Host, err = f.str()
		case fieldStatusUptime:
			if err = f.wantType(protowire.BytesType); err == nil {
				st.Uptime, err = decodeDuration(f.bytes, st.Uptime)
			}
		case fieldStatusRole:
			st.Role, err = f.str()
		case fieldStatusNodes:
			var id uint32
			var addr string
			if id, addr, err = decodeStringEntry(f); err == nil {
				if st.Nodes == nil {
					st.Nodes = map[uint32]string{}
				}
				st.Nodes[id] = addr
			}
		case fieldStatusNodeID:
			if err = f.wantType(protowire.VarintType); err == nil {
				st.ID, hasID = uint32(f.varint), true
			}
		case fieldStatusLeaderID:
			if err = f.wantType(protowire.VarintType); err == nil {
				st.LeaderID = protowire.DecodeZigZag(f.varint)
			}
		case FieldStatusHSM, FieldStatusHSMActive:
			var name string
			if name, err = f.str(); err == nil {
				if f.num == FieldStatusHSM {
					st.HSM = append(st.HSM, name)
				} else {
					st.HSMActive = append(st.HSMActive, name)
				}
			}
		}
		return err
	})
	return st, hasID, err
}

// decodeDuration decodes a google.protobuf.Duration, merging into prev as
// protobuf does when a message field occurs twice. Values beyond the range
// of time.Duration saturate instead of wrapping.
func decodeDuration(b []byte, prev time.Duration) (time.Duration, error) {
	secs, nanos := int64(prev/time.Second), int64(prev%time.Second)
	err := walk(b, func(f field) error {
		switch f.num {
		case fieldDurationSeconds, fieldDurationNanos:
			if err := f.wantType(protowire.VarintType); err != nil {
				return err
			}
			if f.num == fieldDurationSeconds {
				secs = int64(f.varint)
			} else {
				nanos = int64(int32(f.varint))
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	const maxSecs = math.MaxInt64 / int64(time.Second)
	switch {
	case secs > maxSecs:
		return time.Duration(math.MaxInt64), nil
	case secs < -maxSecs:
		return time.Duration(math.MinInt64), nil
	}
	d := time.Duration(secs) * time.Second
	switch {
	case nanos > 0 && d > time.Duration(math.MaxInt64)-time.Duration(nanos):
		return time.Duration(math.MaxInt64), nil
	case nanos < 0 && d < time.Duration(math.MinInt64)-time.Duration(nanos):
		return time.Duration(math.MinInt64), nil
	}
	return d + time.Duration(nanos), nil
}

// decodeStringField returns the last occurrence of string field num in the
// message b (used for ErrResponse.message and VersionResponse.version).
func decodeStringField(b []byte, num protowire.Number) (string, error) {
	var s string
	err := walk(b, func(f field) error {
		if f.num != num {
			return nil
		}
		var err error
		s, err = f.str()
		return err
	})
	return s, err
}
