package vaultcheck

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

// checkCapabilities is step 3: sys/capabilities-self must grant update (or
// root) on each of the three transit paths. A missing capability shows as
// ["deny"] with HTTP 200.
func (run *runner) checkCapabilities(ctx context.Context) {
	r := run.r
	paths := make([]string, len(transitOps))
	for i, op := range transitOps {
		paths[i] = r.keyPath(op)
	}
	var caps map[string][]string
	reason := run.blocked
	if reason == "" {
		var err error
		if caps, err = run.capabilities(ctx, paths); err != nil {
			reason = "cannot query sys/capabilities-self: " + run.apiProblem(err) + " (the round trip below still tells)"
		}
	}
	hint := ""
	if reason == "" && !slices.ContainsFunc(paths, func(p string) bool { return canUpdate(caps[p]) }) {
		hint = r.diagnoseDenial(run.grantedTransit(ctx))
	}
	for i, p := range paths {
		c := Check{ID: "vault.capability." + transitOps[i], Title: "update on " + p + nsNote(r.transitNS)}
		switch {
		case reason != "":
			c = skipped(c.ID, c.Title, reason)
		case canUpdate(caps[p]):
			c.Status, c.Message = Pass, fmt.Sprintf("the token may update %s (capabilities: %v)", p, caps[p])
		default:
			c.Status = Fail
			c.Message = fmt.Sprintf("the token lacks update on %s (capabilities: %v)%s", p, caps[p], hint)
			c.Fix = PolicyStanza(p)
		}
		run.report.add(c)
	}
}

// canUpdate reports whether a capability list allows the nodes' calls:
// "update", or "root" (which allows everything). "sudo" alone does not.
func canUpdate(caps []string) bool {
	return slices.Contains(caps, "update") || slices.Contains(caps, "root")
}

// capabilities asks sys/capabilities-self for all paths at once.
func (run *runner) capabilities(ctx context.Context, paths []string) (map[string][]string, error) {
	secret, err := run.call(ctx, run.r.transitNS, true, http.MethodPost, "sys/capabilities-self", map[string]any{"paths": paths})
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, p := range paths {
		list, _ := secret.Data[p].([]any)
		for _, v := range list {
			if s, ok := v.(string); ok {
				out[p] = append(out[p], s)
			}
		}
	}
	return out, nil
}
