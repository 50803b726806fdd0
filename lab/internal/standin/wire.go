package standin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// CmdClusterStatus is the admin command id of ClusterStatus.
const CmdClusterStatus uint16 = 3

// NodeStatus is one node's entry in a ClusterStatus answer (protobuf
// ServerStatusResponse).
type NodeStatus struct {
	Version   string            `json:"version"`
	Host      string            `json:"host"`
	Uptime    time.Duration     `json:"uptime"`
	Role      string            `json:"role"`
	Nodes     map[uint32]string `json:"nodes"`
	ID        uint32            `json:"node_id"`
	LeaderID  int64             `json:"leader_id"`
	HSM       []string          `json:"hsm"`
	HSMActive []string          `json:"hsm_active"`
}

// ClusterStatus is the answer to the ClusterStatus admin command.
type ClusterStatus struct {
	NodesUp   map[uint32]NodeStatus
	NodesDown map[uint32]string
}

// Field numbers of kms-go's response.proto; hsm and hsm_active are the lab's
// UNCONFIRMED numbering (docs/design.md).
const (
	fieldVersion    = 1
	fieldAPIVersion = 2
	fieldHost       = 3
	fieldUptime     = 4
	fieldRole       = 5
	fieldNodes      = 7
	fieldNodeID     = 8
	fieldLeaderID   = 9
	fieldHSM        = 19
	fieldHSMActive  = 20

	fieldNodesUp   = 1
	fieldNodesDown = 2
)

// AppendServerStatus appends s as a protobuf ServerStatusResponse.
func AppendServerStatus(b []byte, s NodeStatus) []byte {
	b = appendString(b, fieldVersion, s.Version)
	b = appendString(b, fieldAPIVersion, "v1")
	b = appendString(b, fieldHost, s.Host)
	b = protowire.AppendTag(b, fieldUptime, protowire.BytesType)
	b = protowire.AppendBytes(b, appendDuration(nil, s.Uptime))
	b = appendString(b, fieldRole, s.Role)
	for _, id := range slices.Sorted(maps.Keys(s.Nodes)) {
		b = protowire.AppendTag(b, fieldNodes, protowire.BytesType)
		b = protowire.AppendBytes(b, appendStringEntry(nil, id, s.Nodes[id]))
	}
	b = protowire.AppendTag(b, fieldNodeID, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(s.ID))
	b = protowire.AppendTag(b, fieldLeaderID, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeZigZag(s.LeaderID))
	for _, name := range s.HSM {
		b = appendString(b, fieldHSM, name)
	}
	for _, name := range s.HSMActive {
		b = appendString(b, fieldHSMActive, name)
	}
	return b
}

// AppendClusterStatus appends c as a protobuf ClusterStatusResponse.
func AppendClusterStatus(b []byte, c ClusterStatus) []byte {
	for _, id := range slices.Sorted(maps.Keys(c.NodesUp)) {
		var entry []byte
		entry = protowire.AppendTag(entry, 1, protowire.VarintType)
		entry = protowire.AppendVarint(entry, uint64(id))
		entry = protowire.AppendTag(entry, 2, protowire.BytesType)
		entry = protowire.AppendBytes(entry, AppendServerStatus(nil, c.NodesUp[id]))
		b = protowire.AppendTag(b, fieldNodesUp, protowire.BytesType)
		b = protowire.AppendBytes(b, entry)
	}
	for _, id := range slices.Sorted(maps.Keys(c.NodesDown)) {
		b = protowire.AppendTag(b, fieldNodesDown, protowire.BytesType)
		b = protowire.AppendBytes(b, appendStringEntry(nil, id, c.NodesDown[id]))
	}
	return b
}

// Frame wraps a protobuf message in the admin command framing: big-endian
// uint16 command id, big-endian uint32 length, message.
func Frame(cmd uint16, msg []byte) []byte {
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 6+len(msg)), cmd)
	b = binary.BigEndian.AppendUint32(b, uint32(len(msg)))
	return append(b, msg...)
}

// Command is one framed admin command of a request body.
type Command struct {
	ID  uint16
	Msg []byte
}

// ParseCommands splits a request body into its framed commands.
func ParseCommands(body []byte) ([]Command, error) {
	if len(body) == 0 {
		return nil, errors.New("empty request")
	}
	var cmds []Command
	for len(body) > 0 {
		if len(body) < 6 {
			return nil, errors.New("invalid command format")
		}
		id, n := binary.BigEndian.Uint16(body), binary.BigEndian.Uint32(body[2:])
		if uint64(len(body)-6) < uint64(n) {
			return nil, fmt.Errorf("command %d: invalid length %d", id, n)
		}
		cmds = append(cmds, Command{ID: id, Msg: body[6 : 6+n]})
		body = body[6+n:]
	}
	return cmds, nil
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendStringEntry encodes one map<uint32,string> entry.
func appendStringEntry(b []byte, key uint32, val string) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(key))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendString(b, val)
}

// appendDuration encodes a google.protobuf.Duration message.
func appendDuration(b []byte, d time.Duration) []byte {
	secs, nanos := int64(d/time.Second), int32(d%time.Second)
	if secs != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(secs))
	}
	if nanos != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(nanos))
	}
	return b
}
