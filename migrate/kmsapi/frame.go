package kmsapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Command is an admin command ID of the POST /v1/kms/ endpoint. Each request
// and response body is a sequence of frames: a big-endian uint16 command ID, a
// big-endian uint32 payload length, then that many bytes of protobuf.
type Command uint16

// CmdClusterStatus asks a node for its view of the cluster; its request
// payload is empty and its response is a ClusterStatusResponse message.
const CmdClusterStatus Command = 3

// frameHeaderLen is the size of the command ID plus the payload length.
const frameHeaderLen = 6

// ErrFrame is wrapped by every error about a malformed response frame, so
// callers can tell a protocol mismatch from a network failure.
var ErrFrame = errors.New("kmsapi: malformed response frame")

// Frame is one decoded command frame.
type Frame struct {
	Cmd     Command
	Payload []byte
}

// AppendFrame appends one frame carrying payload for cmd to b. It is exported
// so that fake servers in tests frame their answers exactly like the client
// expects them.
func AppendFrame(b []byte, cmd Command, payload []byte) ([]byte, error) {
	if uint64(len(payload)) > math.MaxUint32 {
		return nil, fmt.Errorf("kmsapi: payload of %d bytes does not fit a frame", len(payload))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(cmd))
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...), nil
}

// DecodeFrames splits a response body into frames, all of which must carry
// want: the server answers every command of a request with a frame of the
// same command ID. An empty body, a short header or a length running past
// the end is an error wrapping ErrFrame.
func DecodeFrames(body []byte, want Command) ([]Frame, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty response body", ErrFrame)
	}
	var frames []Frame
	for len(body) > 0 {
		if len(body) < frameHeaderLen {
			return nil, fmt.Errorf("%w: %d trailing bytes are shorter than a frame header", ErrFrame, len(body))
		}
		cmd := Command(binary.BigEndian.Uint16(body))
		if cmd != want {
			return nil, fmt.Errorf("%w: got command %d, want %d", ErrFrame, cmd, want)
		}
		n := uint64(binary.BigEndian.Uint32(body[2:]))
		if n > uint64(len(body)-frameHeaderLen) {
			return nil, fmt.Errorf("%w: payload length %d exceeds the %d bytes left", ErrFrame, n, len(body)-frameHeaderLen)
		}
		frames = append(frames, Frame{Cmd: cmd, Payload: body[frameHeaderLen : frameHeaderLen+n]})
		body = body[frameHeaderLen+n:]
	}
	return frames, nil
}
