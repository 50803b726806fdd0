package vaultcheck

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// transitGrant is one <mount>/<op>/<key> path the token may update.
type transitGrant struct {
	mount, op, key string
}

// grantedTransit reads the token's resultant ACL (sys/internal/ui/
// resultant-acl, readable through Vault's default policy) and returns the
// exact encrypt/decrypt/hmac paths it may update. It is only used to explain
// a denial, so any failure just yields no grants.
func (run *runner) grantedTransit(ctx context.Context) []transitGrant {
	secret, err := run.call(ctx, run.r.transitNS, true, http.MethodGet, "sys/internal/ui/resultant-acl", nil)
	if err != nil {
		return nil
	}
	exact, _ := secret.Data["exact_paths"].(map[string]any)
	var out []transitGrant
	for _, p := range slices.Sorted(maps.Keys(exact)) {
		entry, _ := exact[p].(map[string]any)
		caps, _ := entry["capabilities"].([]any)
		if !slices.ContainsFunc(caps, func(c any) bool { return c == "update" || c == "root" }) {
			continue
		}
		i := strings.LastIndex(p, "/")
		j := strings.LastIndex(p[:max(i, 0)], "/")
		if i <= 0 || j <= 0 || !slices.Contains(transitOps, p[j+1:i]) {
			continue
		}
		out = append(out, transitGrant{mount: p[:j], op: p[j+1 : i], key: p[i+1:]})
	}
	return out
}

// diagnoseDenial explains why none of the three paths is allowed by
// comparing them with what the policies do grant: the key or the mount of
// the inventory differs from the policy's, and which one.
func (r *resolved) diagnoseDenial(grants []transitGrant) string {
	mount, key := r.transitPath, r.Transit.Key
	for _, g := range grants {
		if g.mount == mount && g.key != key {
			return fmt.Sprintf("; the policies grant key %q under %s/, but the inventory names key %q: fix vault.transit.key (or the policy)", g.key, mount, key)
		}
	}
	for _, g := range grants {
		if g.key == key && g.mount != mount {
			return fmt.Sprintf("; the policies grant key %q under mount %s/, but the inventory names mount %s/: fix vault.transit.path (or the policy)", key, g.mount, mount)
		}
	}
	if len(grants) > 0 {
		var paths []string
		for _, g := range grants {
			paths = append(paths, g.mount+"/"+g.op+"/"+g.key)
		}
		return "; the policies grant update only on " + strings.Join(paths, ", ") + ": check vault.transit.key and vault.transit.path"
	}
	return fmt.Sprintf("; none of the three paths of key %q under %s/ is allowed and the token's policies name no other transit key: attach the policy to the role", key, mount)
}
