package kmsapi

import (
	"maps"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// MarshalBinary encodes s as a ClusterStatusResponse protobuf message with
// sorted map keys, so the output is deterministic. The client only decodes;
// the encoder exists so that fake key managers in tests (and the round-trip
// tests of this package) produce exactly the bytes a real node sends.
func (s *ClusterStatus) MarshalBinary() ([]byte, error) {
	var b []byte
	for _, id := range slices.Sorted(maps.Keys(s.Up)) {
		st := encodeNodeStatus(s.Up[id])
		var entry []byte
		entry = appendVarintField(entry, fieldMapKey, uint64(id))
		entry = appendBytesField(entry, fieldMapValue, st)
		b = appendBytesField(b, fieldClusterNodesUp, entry)
	}
	b = appendStringMap(b, fieldClusterNodesDown, s.Down)
	return b, nil
}

// encodeNodeStatus encodes a ServerStatusResponse, leaving out zero values
// as proto3 does.
func encodeNodeStatus(n NodeStatus) []byte {
	var b []byte
	b = appendStringField(b, fieldStatusVersion, n.Version)
	b = appendStringField(b, fieldStatusHost, n.Host)
	if n.Uptime != 0 {
		b = appendBytesField(b, fieldStatusUptime, encodeDuration(n.Uptime))
	}
	b = appendStringField(b, fieldStatusRole, n.Role)
	b = appendStringMap(b, fieldStatusNodes, n.Nodes)
	if n.ID != 0 {
		b = appendVarintField(b, fieldStatusNodeID, uint64(n.ID))
	}
	if n.LeaderID != 0 {
		b = appendVarintField(b, fieldStatusLeaderID, protowire.EncodeZigZag(n.LeaderID))
	}
	for _, h := range n.HSM {
		b = protowire.AppendTag(b, FieldStatusHSM, protowire.BytesType)
		b = protowire.AppendString(b, h)
	}
	for _, h := range n.HSMActive {
		b = protowire.AppendTag(b, FieldStatusHSMActive, protowire.BytesType)
		b = protowire.AppendString(b, h)
	}
	return b
}

// encodeDuration encodes a google.protobuf.Duration.
func encodeDuration(d time.Duration) []byte {
	var b []byte
	secs, nanos := int64(d/time.Second), int64(int32(d%time.Second))
	if secs != 0 {
		b = appendVarintField(b, fieldDurationSeconds, uint64(secs))
	}
	if nanos != 0 {
		b = appendVarintField(b, fieldDurationNanos, uint64(nanos))
	}
	return b
}

// appendStringMap encodes a map<uint32, string> field with sorted keys.
func appendStringMap(b []byte, num protowire.Number, m map[uint32]string) []byte {
	for _, id := range slices.Sorted(maps.Keys(m)) {
		var entry []byte
		entry = appendVarintField(entry, fieldMapKey, uint64(id))
		entry = appendStringField(entry, fieldMapValue, m[id])
		b = appendBytesField(b, num, entry)
	}
	return b
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// appendStringField appends a non-empty proto3 string field.
func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}
