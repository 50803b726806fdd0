package vaultcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/remote"
)

// AdminLogin is how the rotation identity logs in to Vault. It is not the
// nodes' identity: the nodes' policy grants update on encrypt, decrypt and
// hmac only, and a rotation must not widen it. Exactly one of Token (the
// operator's own token) and AppRole (a separate rotation role, for CI) is
// set. Both are secrets: they go into requests only.
type AdminLogin struct {
	Token   string
	AppRole *configedit.AppRole
}

// KeyAdmin is the rotation identity's session with Vault: it reads the
// transit key's versions, rotates it and sets its min_decryption_version,
// over the same verified TLS as the Vault check, and checks from a node
// that Vault answers there.
type KeyAdmin struct {
	run *runner
}

// The permissions a rotation needs, per operation (paths under the
// transit mount, for key K): read keys/K, update keys/K/rotate with
// --rotate, update keys/K/config with --retire-old-versions.
const (
	OpRead   = "read"
	OpRotate = "rotate"
	OpConfig = "config"
)

// NewKeyAdmin reaches Vault at cfg.Server (TLS as the Vault check) and logs
// in with the rotation identity.
func NewKeyAdmin(ctx context.Context, cfg Config, login AdminLogin, opts Options) (*KeyAdmin, error) {
	r, err := resolve(cfg, opts)
	if err != nil {
		return nil, err
	}
	run := &runner{r: r, report: &Report{}}
	if st, msg, fix := run.reach(ctx); st != Pass {
		return nil, fmt.Errorf("%s (%s)", msg, fix)
	}
	k := &KeyAdmin{run: run}
	if err := k.login(ctx, login); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *KeyAdmin) login(ctx context.Context, login AdminLogin) error {
	switch {
	case login.Token != "" && login.AppRole != nil:
		return errors.New("rotation identity: give a Vault token or an approle, not both")
	case login.Token != "":
		k.run.token = login.Token
		return nil
	case login.AppRole == nil:
		return errors.New("rotation identity: no Vault token (VAULT_TOKEN, --vault-token-file) and no approle (--admin-role-id, --admin-secret-id-file)")
	}
	a := login.AppRole
	path := "auth/" + a.MountPath() + "/login"
	secret, err := k.run.call(ctx, a.Namespace, false, http.MethodPost, path, map[string]any{"role_id": a.ID, "secret_id": a.Secret})
	if err == nil && (secret.Auth == nil || secret.Auth.ClientToken == "") {
		err = errors.New("Vault answered the login without a token")
	}
	if err != nil {
		return fmt.Errorf("rotation identity: approle login at %s: %s", path, k.run.apiProblem(err))
	}
	k.run.token = secret.Auth.ClientToken
	return nil
}

// Path is the key's path for op ("" is the key itself), e.g.
// transit/keys/minkms-sealing-key/rotate.
func (k *KeyAdmin) Path(op string) string {
	p := k.run.r.transitPath + "/keys/" + k.run.r.Transit.Key
	if op != "" && op != OpRead {
		p += "/" + op
	}
	return p
}

// CheckPermissions asks sys/capabilities-self, before any change, whether
// the rotation identity may read the key and, as asked, rotate it and set
// its configuration. The error lists every missing stanza.
func (k *KeyAdmin) CheckPermissions(ctx context.Context, rotate, retire bool) error {
	need := map[string]string{k.Path(OpRead): "read"}
	if rotate {
		need[k.Path(OpRotate)] = "update"
	}
	if retire {
		need[k.Path(OpConfig)] = "update"
	}
	paths := make([]string, 0, len(need))
	for p := range need {
		paths = append(paths, p)
	}
	caps, err := k.run.capabilities(ctx, paths)
	if err != nil {
		return fmt.Errorf("rotation identity: sys/capabilities-self: %s", k.run.apiProblem(err))
	}
	var missing []string
	for _, p := range paths {
		c := caps[p]
		if !hasCap(c, need[p]) {
			missing = append(missing, fmt.Sprintf("path %q {\n  capabilities = [%q]\n}", p, need[p]))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the rotation identity lacks permissions (add to its policy):\n%s", strings.Join(missing, "\n"))
	}
	return nil
}

func hasCap(caps []string, want string) bool {
	for _, c := range caps {
		if c == want || c == "root" {
			return true
		}
	}
	return false
}

// Versions reads the key's latest_version and min_decryption_version.
func (k *KeyAdmin) Versions(ctx context.Context) (latest, minDecryption int, err error) {
	secret, err := k.run.call(ctx, k.run.r.transitNS, true, http.MethodGet, k.Path(OpRead), nil)
	if err != nil {
		return 0, 0, fmt.Errorf("read %s: %s", k.Path(OpRead), k.run.apiProblem(err))
	}
	if latest, err = intField(secret.Data, "latest_version"); err == nil {
		minDecryption, err = intField(secret.Data, "min_decryption_version")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", k.Path(OpRead), err)
	}
	return latest, minDecryption, nil
}

func intField(data map[string]any, name string) (int, error) {
	switch v := data[name].(type) {
	case json.Number:
		n, err := strconv.Atoi(v.String())
		return n, err
	case float64:
		return int(v), nil
	}
	return 0, fmt.Errorf("no %s in Vault's answer", name)
}

// Rotate adds a new version to the key (update on keys/K/rotate).
func (k *KeyAdmin) Rotate(ctx context.Context) error {
	return k.write(ctx, OpRotate, map[string]any{})
}

// SetMinDecryptionVersion sets keys/K/config min_decryption_version: Vault
// then refuses to decrypt any ciphertext of an older version.
func (k *KeyAdmin) SetMinDecryptionVersion(ctx context.Context, v int) error {
	return k.write(ctx, OpConfig, map[string]any{"min_decryption_version": v})
}

func (k *KeyAdmin) write(ctx context.Context, op string, body map[string]any) error {
	_, err := k.run.call(ctx, k.run.r.transitNS, true, http.MethodPost, k.Path(op), body)
	if err != nil && !isEmptyAnswer(err) {
		return fmt.Errorf("%s: %s", k.Path(op), k.run.apiProblem(err))
	}
	return nil
}

// isEmptyAnswer: Vault answers a successful config write with 204 and no
// body, which call reports as an empty answer.
func isEmptyAnswer(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "empty answer from Vault")
}

// NodeReaches checks from the node, through its SSH connection, that Vault
// answers with a verified TLS handshake (the Vault check's node step).
func (k *KeyAdmin) NodeReaches(ctx context.Context, n remote.Node) error {
	c := k.run.checkNode(ctx, n)
	if c.Status != Pass {
		return errors.New(c.Message)
	}
	return nil
}
