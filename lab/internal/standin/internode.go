package standin

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// InterNodeKey is the key derived from one HSM that authenticates traffic
// between nodes.
type InterNodeKey struct {
	HSM string
	Key []byte
}

// peerAuth tags and verifies inter-node messages under the node's rule:
// shared (tag with every HSM, accept any matching HSM) or primary (tag and
// accept only the primary HSM, local when configured, else Vault).
type peerAuth struct {
	rule string
	keys []InterNodeKey // primary first
}

// envelope is the body of every inter-node request and reply.
type envelope struct {
	Msg  json.RawMessage   `json:"msg"`
	Tags map[string][]byte `json:"tags"`
}

// errKeyMismatch means the peer does not share an inter-node key with us.
var errKeyMismatch = errors.New("inter-node key mismatch")

func (a *peerAuth) active() []InterNodeKey {
	if a.rule == RulePrimary {
		return a.keys[:1]
	}
	return a.keys
}

// names lists the HSMs whose keys this node uses, for log lines.
func (a *peerAuth) names() string {
	var n []string
	for _, k := range a.active() {
		n = append(n, k.HSM)
	}
	return strings.Join(n, ", ")
}

// seal encodes m with one tag per active key.
func (a *peerAuth) seal(m any) ([]byte, error) {
	msg, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode inter-node message: %w", err)
	}
	env := envelope{Msg: msg, Tags: map[string][]byte{}}
	for _, k := range a.active() {
		env.Tags[k.HSM] = hmacSHA256(k.Key, msg)
	}
	return json.Marshal(env)
}

// open verifies a body sealed by a peer and decodes its message.
func (a *peerAuth) open(body []byte) (peerMsg, error) {
	var m peerMsg
	err := a.openInto(body, &m)
	return m, err
}

// openInto verifies a body sealed by a peer and decodes its message into v.
func (a *peerAuth) openInto(body []byte, v any) error {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("decode inter-node message: %w", err)
	}
	if !a.verify(env) {
		return errKeyMismatch
	}
	if err := json.Unmarshal(env.Msg, v); err != nil {
		return fmt.Errorf("decode inter-node message: %w", err)
	}
	return nil
}

func (a *peerAuth) verify(env envelope) bool {
	for _, k := range a.active() {
		tag, ok := env.Tags[k.HSM]
		if ok && hmac.Equal(tag, hmacSHA256(k.Key, env.Msg)) {
			return true
		}
	}
	return false
}
