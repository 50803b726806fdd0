package standin

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// pbFields is a decoded protobuf message: the last value of each scalar
// field by number (requests of the key commands have only scalar fields).
type pbFields map[protowire.Number]pbValue

// pbValue is one field's wire value: varint or bytes.
type pbValue struct {
	varint uint64
	bytes  []byte
}

// decodeFields decodes the varint and length-delimited fields of msg; other
// wire types are skipped.
func decodeFields(msg []byte) (pbFields, error) {
	f := pbFields{}
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil, errors.New("invalid protobuf message")
		}
		msg = msg[n:]
		switch typ {
		case protowire.VarintType:
			v, m := protowire.ConsumeVarint(msg)
			if m < 0 {
				return nil, fmt.Errorf("invalid protobuf field %d", num)
			}
			f[num], msg = pbValue{varint: v}, msg[m:]
		case protowire.BytesType:
			v, m := protowire.ConsumeBytes(msg)
			if m < 0 {
				return nil, fmt.Errorf("invalid protobuf field %d", num)
			}
			f[num], msg = pbValue{bytes: v}, msg[m:]
		default:
			m := protowire.ConsumeFieldValue(num, typ, msg)
			if m < 0 {
				return nil, fmt.Errorf("invalid protobuf field %d", num)
			}
			msg = msg[m:]
		}
	}
	return f, nil
}

func (f pbFields) str(n protowire.Number) string   { return string(f[n].bytes) }
func (f pbFields) raw(n protowire.Number) []byte   { return f[n].bytes }
func (f pbFields) uint(n protowire.Number) uint64  { return f[n].varint }
func (f pbFields) boolean(n protowire.Number) bool { return f[n].varint != 0 }

// appendBytesField appends a length-delimited field unless v is empty
// (proto3 omits default values).
func appendBytesField(b []byte, n protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// appendUintField appends a varint field unless v is zero.
func appendUintField(b []byte, n protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendTimestamp appends a google.protobuf.Timestamp field.
func appendTimestamp(b []byte, n protowire.Number, t time.Time) []byte {
	var ts []byte
	ts = appendUintField(ts, 1, uint64(t.Unix()))
	ts = appendUintField(ts, 2, uint64(t.Nanosecond()))
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendBytes(b, ts)
}
