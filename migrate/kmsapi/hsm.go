package kmsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/protobuf/encoding/protowire"
)

// Admin commands that change a cluster's sealed root key entries (public
// SDK facts, kms/cmds/command.go: 5 AddHSM, 6 RemoveHSM). Both are
// cluster-wide writes that need SysAdmin and every node up.
const (
	CmdAddHSM    Command = 5
	CmdRemoveHSM Command = 6
)

// Field numbers of AddHSMRequest{Name=1 string, Overwrite=2 bool} and
// RemoveHSMRequest{Name=1 string} (public request.proto).
const (
	fieldHSMName      protowire.Number = 1
	fieldHSMOverwrite protowire.Number = 2
)

// Errors of the HSM commands, told apart by the node's HTTP status so that
// callers branch on what happened, not on the server's wording. The
// *HTTPError stays in the chain (errors.As) with the node's message.
var (
	// ErrHSMNotAllNodes: the write was refused because a node is down (503).
	ErrHSMNotAllNodes = errors.New("kmsapi: cluster write refused: not every node is up")
	// ErrHSMNoEntry: no sealed root key entry for that HSM (404).
	ErrHSMNoEntry = errors.New("kmsapi: no sealed root encryption key entry for the HSM")
	// ErrHSMConflict: AddHSM found an entry already (without Overwrite), or
	// RemoveHSM would remove the last entry that can unseal (409).
	ErrHSMConflict = errors.New("kmsapi: HSM entry conflict")
	// ErrHSMNotConfigured: AddHSM of an HSM the nodes have no configuration
	// for ("AddHSM can only add HSMs that have been removed using RemoveHSM"), 400.
	ErrHSMNotConfigured = errors.New("kmsapi: HSM not configured (or bad request)")
	// ErrForbidden: the API key's identity is not SysAdmin (403).
	ErrForbidden = errors.New("kmsapi: access denied")
)

// HSMError is a failed AddHSM or RemoveHSM: the command, the HSM, the
// classified kind (one of the ErrHSM* values, or nil when unknown) and the
// node's answer.
type HSMError struct {
	Cmd  Command
	Name string
	Kind error
	Err  error
}

func (e *HSMError) Error() string {
	verb := "RemoveHSM"
	if e.Cmd == CmdAddHSM {
		verb = "AddHSM"
	}
	return fmt.Sprintf("kmsapi: %s %s: %v", verb, e.Name, e.Err)
}

// Unwrap exposes both the kind and the node's *HTTPError.
func (e *HSMError) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// EncodeAddHSMRequest encodes AddHSMRequest (proto3: a false Overwrite is left out).
func EncodeAddHSMRequest(name string, overwrite bool) []byte {
	b := appendStringField(nil, fieldHSMName, name)
	if overwrite {
		b = appendVarintField(b, fieldHSMOverwrite, 1)
	}
	return b
}

// EncodeRemoveHSMRequest encodes RemoveHSMRequest.
func EncodeRemoveHSMRequest(name string) []byte {
	return appendStringField(nil, fieldHSMName, name)
}

// AddHSM seals the cluster's root key with the named HSM again. The HSM must
// be configured on the nodes; it can only add an HSM whose entry RemoveHSM
// removed, unless overwrite re-seals an existing entry.
func (c *Client) AddHSM(ctx context.Context, name string, overwrite bool) error {
	return c.hsmCommand(ctx, CmdAddHSM, name, EncodeAddHSMRequest(name, overwrite))
}

// RemoveHSM deletes, on every node, the sealed root key entry of the named
// HSM: that HSM can no longer unseal the nodes' on-disk state. It does not
// remove the HSM's configuration.
func (c *Client) RemoveHSM(ctx context.Context, name string) error {
	return c.hsmCommand(ctx, CmdRemoveHSM, name, EncodeRemoveHSMRequest(name))
}

func (c *Client) hsmCommand(ctx context.Context, cmd Command, name string, payload []byte) error {
	if !c.hasKey {
		return errors.New("kmsapi: AddHSM and RemoveHSM need an API key (MINIO_KMS_API_KEY)")
	}
	if name == "" {
		return errors.New("kmsapi: an HSM name is required")
	}
	req, err := AppendFrame(nil, cmd, payload)
	if err != nil {
		return err
	}
	body, _, err := c.do(ctx, http.MethodPost, pathKMS, req)
	if err != nil {
		return &HSMError{Cmd: cmd, Name: name, Kind: classifyHSMError(err), Err: err}
	}
	return checkHSMResponse(cmd, body)
}

// checkHSMResponse accepts an empty answer (the commands have no response
// message) or frames of the same command.
func checkHSMResponse(cmd Command, body []byte) error {
	if len(body) == 0 {
		return nil
	}
	_, err := DecodeFrames(body, cmd)
	return err
}

// classifyHSMError maps the node's status onto an ErrHSM* kind.
func classifyHSMError(err error) error {
	var he *HTTPError
	if !errors.As(err, &he) {
		return nil
	}
	switch he.Status {
	case http.StatusServiceUnavailable:
		return ErrHSMNotAllNodes
	case http.StatusNotFound:
		return ErrHSMNoEntry
	case http.StatusConflict:
		return ErrHSMConflict
	case http.StatusBadRequest:
		return ErrHSMNotConfigured
	case http.StatusForbidden:
		return ErrForbidden
	}
	return nil
}
