package kmsapi

import (
	"reflect"
	"testing"
)

// FuzzDecodeClusterStatusResponse feeds arbitrary bodies to the response
// decoder: it must never panic, and whatever it accepts must survive an
// encode/decode round trip unchanged.
func FuzzDecodeClusterStatusResponse(f *testing.F) {
	good, _ := AppendFrame(nil, CmdClusterStatus, handClusterStatus())
	f.Add(good)
	f.Add([]byte{0, 3, 0, 0, 0, 0})
	f.Add([]byte{0, 3, 0, 0, 0, 2, 0x0a, 0x00})
	f.Add([]byte{0, 3, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := DecodeClusterStatusResponse(body)
		if err != nil {
			return
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of decoded value: %v", err)
		}
		var again ClusterStatus
		if err := again.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-decoding own encoding: %v", err)
		}
		if !reflect.DeepEqual(normalize(s), normalize(&again)) {
			t.Fatalf("round trip changed the value:\n%+v\n%+v", s, again)
		}
	})
}

// normalize maps empty and nil slices and maps to one form: protobuf cannot
// tell them apart.
func normalize(s *ClusterStatus) *ClusterStatus {
	out := &ClusterStatus{Up: map[uint32]NodeStatus{}, Down: s.Down}
	for id, n := range s.Up {
		if len(n.HSM) == 0 {
			n.HSM = nil
		}
		if len(n.HSMActive) == 0 {
			n.HSMActive = nil
		}
		if len(n.Nodes) == 0 {
			n.Nodes = nil
		}
		out.Up[id] = n
	}
	return out
}
