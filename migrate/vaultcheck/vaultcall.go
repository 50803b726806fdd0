package vaultcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/hashicorp/vault/api"
)

// call sends one Vault request in namespace ns, with the login token when
// withToken is set, and parses the answer. Errors are *api.ResponseError for
// Vault's own answers (see asVaultErr) or transport errors.
func (run *runner) call(ctx context.Context, ns string, withToken bool, method, path string, body map[string]any) (*api.Secret, error) {
	c := run.vault.WithNamespace(ns)
	if withToken {
		c.SetToken(run.token)
	}
	ctx, cancel := context.WithTimeout(ctx, run.r.reqTimeout)
	defer cancel()
	var resp *api.Response
	var err error
	if method == http.MethodGet {
		resp, err = c.Logical().ReadRawWithContext(ctx, path)
	} else {
		data, merr := json.Marshal(body)
		if merr != nil {
			return nil, fmt.Errorf("encoding request: %w", merr)
		}
		resp, err = c.Logical().WriteRawWithContext(ctx, path, data)
	}
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	secret, err := api.ParseSecret(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing Vault's answer to %s: %w", path, err)
	}
	if secret == nil {
		return nil, fmt.Errorf("empty answer from Vault to %s", path)
	}
	return secret, nil
}

// nsNote is " (namespace "x")" when a namespace is set, for messages.
func nsNote(ns string) string {
	if ns == "" {
		return ""
	}
	return fmt.Sprintf(" (namespace %q)", ns)
}
