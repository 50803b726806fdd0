package migrate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// HSMNames says which of a node's HSMs, named exactly as the key manager
// reports them, are its local ones and which the Vault block brought. kmsctl
// never decides that from a name (the product's names are not documented
// for every HSM kind): the local HSMs are what was configured before the
// change, the Vault HSM is what newly appears in hsm_active once the Vault
// block is in.
type HSMNames struct {
	Local []string `json:"local"`
	Vault []string `json:"vault,omitempty"`
}

// HSMView is what IdentifyHSMs needs to know of one node.
type HSMView struct {
	Node string
	// Active is the node's hsm_active (configured HSMs).
	Active []string
	// VaultBlock: the node's config has a Vault block; LocalKey: its env
	// file sets the local HSM key.
	VaultBlock, LocalKey bool
	// Recorded is what an earlier run wrote in its manifest on the node.
	Recorded *HSMNames
}

// IdentifyHSMs applies the rule by difference to every node. A node without
// a Vault block shows only local HSMs; a node without the local key only
// Vault ones; a node with both (an earlier run stopped after stage 1) is
// told apart by its run record, else by comparing with the other nodes. A
// node that none of these settles is an error: kmsctl does not guess.
func IdentifyHSMs(views []HSMView) (map[string]HSMNames, error) {
	out := map[string]HSMNames{}
	var local, vault []string
	for _, v := range views {
		switch {
		case !v.VaultBlock:
			out[v.Node] = HSMNames{Local: slices.Clone(v.Active)}
			local = union(local, v.Active)
		case !v.LocalKey:
			out[v.Node] = HSMNames{Vault: slices.Clone(v.Active)}
			vault = union(vault, v.Active)
		}
	}
	var errs []error
	for _, v := range views {
		if !v.VaultBlock || !v.LocalKey {
			continue
		}
		n, err := identifyBoth(v, local, vault)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[v.Node] = n
	}
	return out, errors.Join(errs...)
}

// identifyBoth tells apart the HSMs of a node that has both configured.
func identifyBoth(v HSMView, local, vault []string) (HSMNames, error) {
	if r := v.Recorded; r != nil && len(r.Local) > 0 {
		return HSMNames{Local: intersect(v.Active, r.Local), Vault: minus(v.Active, r.Local)}, nil
	}
	if l := intersect(v.Active, local); len(l) > 0 && len(minus(v.Active, l)) > 0 {
		return HSMNames{Local: l, Vault: minus(v.Active, l)}, nil
	}
	if vv := intersect(v.Active, vault); len(vv) > 0 && len(minus(v.Active, vv)) > 0 {
		return HSMNames{Local: minus(v.Active, vv), Vault: vv}, nil
	}
	return HSMNames{}, fmt.Errorf("node %s: cannot tell which of its HSMs (%s) is the local one: it has both a Vault block and the local key, no run of kmsctl recorded their names on it, and no other node has only one of them", v.Node, strings.Join(v.Active, ", "))
}

// vaultAdded returns the HSMs in active that are not local: the ones the
// Vault block brought.
func vaultAdded(active, local []string) []string { return minus(active, local) }

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// MissingEntryError means a node started with its Vault HSM configured but
// holds no sealed root key entry for it: it unsealed with another HSM (the
// product may start on any configured HSM that works), so its start proves
// nothing about Vault.
type MissingEntryError struct {
	// Sealed is the node's hsm list, Vault the HSMs without an entry.
	Sealed, Active, Vault []string
}

func (e *MissingEntryError) Error() string {
	return fmt.Sprintf("started on %s only: its Vault HSM has no sealed root key entry (hsm_active: %s; hsm: %s)",
		orNone(e.Sealed), strings.Join(e.Active, ", "), orNone(e.Sealed))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "no HSM"
	}
	return strings.Join(s, ", ")
}
