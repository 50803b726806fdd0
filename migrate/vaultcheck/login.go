package vaultcheck

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// checkLogin is step 2: log in with the nodes' exact credentials and report
// the token's policies and TTL.
func (run *runner) checkLogin(ctx context.Context) {
	r := run.r
	c := Check{ID: "vault.login", Title: fmt.Sprintf("%s login at auth/%s%s", r.authMethod, r.authPath, nsNote(r.authNS))}
	if run.blocked != "" {
		run.report.add(skipped(c.ID, c.Title, run.blocked))
		return
	}
	secret, err := run.call(ctx, r.authNS, false, http.MethodPost, "auth/"+r.authPath+"/login", r.loginBody())
	if err == nil && (secret.Auth == nil || secret.Auth.ClientToken == "") {
		err = fmt.Errorf("Vault answered the login without a token")
	}
	if err != nil {
		c.Status = Fail
		c.Message, c.Fix = r.loginFailure(err)
		run.blocked = "the login failed (see vault.login)"
		run.report.add(c)
		return
	}
	run.token = secret.Auth.ClientToken
	run.secrets = append(run.secrets, run.token, secret.Auth.Accessor)
	ttl := time.Duration(secret.Auth.LeaseDuration) * time.Second
	policies := strings.Join(secret.Auth.Policies, ", ")
	c.Status = Pass
	c.Message = fmt.Sprintf("logged in; policies: %s; TTL %s", policies, ttl)
	c.Details = map[string]string{
		"method": r.authMethod, "mount": r.authPath, "policies": policies, "ttl": ttl.String(),
		"renewable": fmt.Sprint(secret.Auth.Renewable),
	}
	if r.authNS != "" {
		c.Details["namespace"] = r.authNS
	}
	if r.Kubernetes != nil {
		c.Details["role"] = r.Kubernetes.Role
	}
	run.report.add(c)
}

// loginBody is the request body of the login; it holds the secret, so it
// never goes anywhere but the request.
func (r *resolved) loginBody() map[string]any {
	if r.AppRole != nil {
		return map[string]any{"role_id": r.AppRole.ID, "secret_id": r.AppRole.Secret}
	}
	return map[string]any{"role": r.Kubernetes.Role, "jwt": r.kubernetesToken()}
}

// loginFailure turns Vault's answers to a failed login into what to fix.
// The facts (Vault 1.21.1): a wrong role or secret id is 400 "invalid role
// or secret ID"; a missing auth mount is 403 "permission denied", not 404.
func (r *resolved) loginFailure(err error) (msg, fix string) {
	where := fmt.Sprintf("%s login at auth/%s/login%s", r.authMethod, r.authPath, nsNote(r.authNS))
	ve, ok := asVaultErr(err)
	if !ok {
		p := describeConnErr(err, r.Server)
		return where + " failed: " + p.cause, p.fix
	}
	nsFix := ""
	if r.authNS != "" {
		nsFix = ", and the namespace"
	}
	switch {
	case ve.has("invalid role or secret id"):
		return where + " was refused (400 invalid role or secret ID): the role id or the secret id is wrong, or the secret id expired or was used up",
			"check vault.approle.id and the secret id file; issue a new secret id with: vault write -f auth/" + r.authPath + "/role/<role>/secret-id"
	case ve.status == http.StatusForbidden && r.AppRole != nil:
		return fmt.Sprintf("%s was refused (403 permission denied): Vault answers this when no auth method is mounted at %s/ or it is not an approle mount", where, r.authPath),
			"check vault.approle.path against `vault auth list`" + nsFix
	case ve.status == http.StatusForbidden:
		return fmt.Sprintf("%s was refused (403 permission denied): the JWT was rejected (wrong, expired or not bound to role %q), or no kubernetes auth method is mounted at %s/", where, r.Kubernetes.Role, r.authPath),
			"check vault.kubernetes.path against `vault auth list`, the role's bound service account" + nsFix + ", and the jwt file"
	case ve.has("invalid role name"):
		return fmt.Sprintf("%s was refused (%s): there is no role %q at auth/%s", where, ve.text(), r.Kubernetes.Role, r.authPath),
			"fix vault.kubernetes.role"
	}
	return where + " failed: " + ve.text(), ""
}
