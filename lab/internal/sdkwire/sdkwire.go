// Package sdkwire holds the lab's work-arounds for the public SDK
// (github.com/minio/kms-go/kms, test only, AGPL) at the version in go.mod,
// so that the stand-in's tests, the lab tests and the load can drive the
// stand-in with the SDK's own framing and types where its client is wrong.
package sdkwire

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/kms-go/kms"
	"github.com/minio/kms-go/kms/cmds"
	pb "github.com/minio/kms-go/kms/protobuf"
)

// Encrypt runs KeyEncrypt with the SDK's framing and types, but decodes the
// answer itself: the SDK's Client.Encrypt at the version in go.mod expects
// the answer framed as KeyStatus (fixed upstream in kms-go 9e1838a, "fix
// bug in Client.Encrypt"); the server answers with KeyEncrypt's id.
func Encrypt(ctx context.Context, c *kms.Client, enclave string, req *kms.EncryptRequest) (*kms.EncryptResponse, error) {
	body, err := cmds.Encode(nil, cmds.KeyEncrypt, req)
	if err != nil {
		return nil, fmt.Errorf("encode KeyEncrypt: %w", err)
	}
	data, err := Call(ctx, c, enclave, body)
	if err != nil {
		return nil, err
	}
	var out kms.EncryptResponse
	rest, err := cmds.Decode[pb.EncryptResponse](data, cmds.KeyEncrypt, &out)
	if err != nil {
		return nil, fmt.Errorf("decode KeyEncrypt response: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("KeyEncrypt response has trailing data")
	}
	return &out, nil
}

// Call sends a framed request body to the client's node (enclave "" for
// admin commands) and returns the whole answer body, read by length
// rather than through the SDK's buffer pool.
func Call(ctx context.Context, c *kms.Client, enclave string, body []byte) ([]byte, error) {
	resp, err := c.Send(ctx, &kms.Request{Enclave: enclave, Body: body})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return data, nil
}
