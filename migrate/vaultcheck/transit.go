package vaultcheck

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/hashicorp/vault/api"
)

// transitOps are the three operations the nodes need on their key.
var transitOps = []string{"encrypt", "decrypt", "hmac"}

// roundTrip is what step 4 learnt, shared between its checks.
type roundTrip struct {
	keyMissing   string // message when the key is known not to exist
	mountMissing string // message when the transit mount is known not to exist
}

// checkRoundTrip is step 4. It runs HMAC and the key read first: neither can
// create anything, and they tell a missing key or mount apart. Encrypt runs
// only when the key is not known to be missing, since Vault treats encrypt
// on a missing key as "create" and would make the key if a policy allowed it.
func (run *runner) checkRoundTrip(ctx context.Context) {
	r := run.r
	titles := map[string]string{
		"encrypt": "encrypt 32 random bytes with " + r.keyPath("encrypt"),
		"decrypt": "decrypt them back with " + r.keyPath("decrypt"),
		"hmac":    "HMAC with " + r.keyPath("hmac"),
		"key":     "type of key " + r.transitPath + "/keys/" + r.Transit.Key,
	}
	if run.blocked != "" {
		for _, op := range []string{"encrypt", "decrypt", "hmac", "key"} {
			run.report.add(skipped("transit."+op, titles[op], run.blocked))
		}
		return
	}
	var rt roundTrip
	hmac := run.transitHMAC(ctx, &rt)
	key := run.transitKey(ctx, &rt)
	enc, ciphertext, plaintext := run.transitEncrypt(ctx, &rt)
	dec := run.transitDecrypt(ctx, &rt, ciphertext, plaintext)
	for _, c := range []Check{enc, dec, hmac, key} {
		op := c.ID[len("transit."):]
		c.Title = titles[op] + nsNote(r.transitNS)
		run.report.add(c)
	}
}

// randomInput returns 32 random bytes and their base64 form.
func randomInput() ([]byte, string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, "", fmt.Errorf("random input: %w", err)
	}
	return b, base64.StdEncoding.EncodeToString(b), nil
}

func (run *runner) transitHMAC(ctx context.Context, rt *roundTrip) Check {
	c := Check{ID: "transit.hmac"}
	_, in, err := randomInput()
	if err != nil {
		return failed(c, err.Error(), "")
	}
	secret, err := run.transitCall(ctx, "hmac", map[string]any{"input": in})
	if err != nil {
		return run.transitFailure(c, "hmac", err, rt)
	}
	h, _ := secret.Data["hmac"].(string)
	run.secrets = append(run.secrets, h)
	if h == "" {
		return failed(c, "Vault answered the HMAC request without an HMAC", "")
	}
	c.Status, c.Message = Pass, fmt.Sprintf("Vault computed an HMAC with key %q", run.r.Transit.Key)
	return c
}

func (run *runner) transitKey(ctx context.Context, rt *roundTrip) Check {
	c := Check{ID: "transit.key"}
	if rt.mountMissing != "" {
		return skippedRT(c, rt.mountMissing)
	}
	path := run.r.transitPath + "/keys/" + run.r.Transit.Key
	secret, err := run.call(ctx, run.r.transitNS, true, http.MethodGet, path, nil)
	if err != nil {
		if ve, ok := asVaultErr(err); ok && ve.status == http.StatusForbidden {
			return skippedRT(c, fmt.Sprintf("the policy does not allow reading %s (not required by the nodes)", path))
		}
		if ve, ok := asVaultErr(err); ok && ve.status == http.StatusNotFound && !ve.has("no handler for route") {
			rt.keyMissing = run.keyMissingMsg(ve)
			return failed(c, rt.keyMissing, run.keyMissingFix())
		}
		return run.transitFailure(c, "keys", err, rt)
	}
	typ, _ := secret.Data["type"].(string)
	c.Status, c.Message = Pass, fmt.Sprintf("key %q has type %s", run.r.Transit.Key, typ)
	c.Details = map[string]string{"type": typ, "latest_version": fmt.Sprint(secret.Data["latest_version"])}
	return c
}

func (run *runner) transitEncrypt(ctx context.Context, rt *roundTrip) (Check, string, []byte) {
	c := Check{ID: "transit.encrypt"}
	if rt.mountMissing != "" {
		return skippedRT(c, rt.mountMissing), "", nil
	}
	if rt.keyMissing != "" {
		return skippedRT(c, rt.keyMissing+" (encrypting would try to create the key)"), "", nil
	}
	plain, in, err := randomInput()
	if err != nil {
		return failed(c, err.Error(), ""), "", nil
	}
	run.secrets = append(run.secrets, in)
	secret, err := run.transitCall(ctx, "encrypt", map[string]any{"plaintext": in})
	if err != nil {
		return run.transitFailure(c, "encrypt", err, rt), "", nil
	}
	ct, _ := secret.Data["ciphertext"].(string)
	run.secrets = append(run.secrets, ct)
	if ct == "" {
		return failed(c, "Vault answered the encrypt request without a ciphertext", ""), "", nil
	}
	c.Status, c.Message = Pass, "Vault encrypted 32 random bytes"
	return c, ct, plain
}

func (run *runner) transitDecrypt(ctx context.Context, rt *roundTrip, ciphertext string, plain []byte) Check {
	c := Check{ID: "transit.decrypt"}
	if ciphertext == "" {
		reason := rt.blocker()
		if reason == "" {
			reason = "nothing to decrypt: the encrypt check did not pass"
		}
		return skippedRT(c, reason)
	}
	secret, err := run.transitCall(ctx, "decrypt", map[string]any{"ciphertext": ciphertext})
	if err != nil {
		return run.transitFailure(c, "decrypt", err, rt)
	}
	got, derr := base64.StdEncoding.DecodeString(fmt.Sprint(secret.Data["plaintext"]))
	if derr != nil || subtle.ConstantTimeCompare(got, plain) != 1 {
		return failed(c, "Vault decrypted the ciphertext to different bytes than were encrypted", "check the transit key's configuration")
	}
	c.Status, c.Message = Pass, "Vault decrypted the ciphertext back to the same 32 bytes"
	return c
}

// transitCall posts body to <transit>/<op>/<key> with the login token.
func (run *runner) transitCall(ctx context.Context, op string, body map[string]any) (*api.Secret, error) {
	return run.call(ctx, run.r.transitNS, true, http.MethodPost, run.r.keyPath(op), body)
}

// blocker is why the round trip cannot go on, if a mount or key is missing.
func (rt *roundTrip) blocker() string {
	if rt.mountMissing != "" {
		return rt.mountMissing
	}
	return rt.keyMissing
}

func failed(c Check, msg, fix string) Check {
	c.Status, c.Message, c.Fix = Fail, msg, fix
	return c
}

func skippedRT(c Check, reason string) Check {
	c.Status, c.Message = Skip, "skipped: "+reason
	return c
}

// transitFailure explains a failed transit call. Facts (Vault 1.21.1): a
// missing mount is 404 "no handler for route", a missing key 400
// "encryption key not found", a missing capability 403 "permission denied".
func (run *runner) transitFailure(c Check, op string, err error, rt *roundTrip) Check {
	r := run.r
	path := r.keyPath(op)
	ve, ok := asVaultErr(err)
	if !ok {
		p := describeConnErr(err, r.Server)
		return failed(c, fmt.Sprintf("%s failed: %s", path, p.cause), p.fix)
	}
	switch {
	case ve.status == http.StatusNotFound && ve.has("no handler for route"):
		rt.mountMissing = fmt.Sprintf("no secrets engine is mounted at %s/ (404 no handler for route)%s", r.transitPath, nsNote(r.transitNS))
		return failed(c, rt.mountMissing, fmt.Sprintf("fix vault.transit.path, or enable transit there: vault secrets enable -path=%s transit", r.transitPath))
	case ve.has("encryption key not found"):
		rt.keyMissing = run.keyMissingMsg(ve)
		return failed(c, rt.keyMissing, run.keyMissingFix())
	case ve.status == http.StatusForbidden && op == "encrypt":
		return failed(c, fmt.Sprintf("permission denied on %s (403): the token's policies do not grant update there, or the key does not exist (Vault treats encrypt on a missing key as create)", path), PolicyStanza(path))
	case ve.status == http.StatusForbidden:
		return failed(c, fmt.Sprintf("permission denied on %s (403): the token's policies do not grant update there", path), PolicyStanza(path))
	}
	return failed(c, fmt.Sprintf("%s failed: %s", path, ve.text()), "")
}

// keyMissingMsg names the missing key, its mount and Vault's answer.
func (run *runner) keyMissingMsg(ve vaultErr) string {
	r := run.r
	return fmt.Sprintf("transit key %q does not exist at %s/ (%s)%s", r.Transit.Key, r.transitPath, ve.text(), nsNote(r.transitNS))
}

// keyMissingFix says how to fix a missing key.
func (run *runner) keyMissingFix() string {
	r := run.r
	return fmt.Sprintf("fix vault.transit.key, or create the key: vault write -f %s/keys/%s type=aes256-gcm96", r.transitPath, r.Transit.Key)
}

// apiProblem is a one-line description of a failed Vault call.
func (run *runner) apiProblem(err error) string {
	if ve, ok := asVaultErr(err); ok {
		return ve.text()
	}
	return describeConnErr(err, run.r.Server).cause
}
