package standin

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	good := `node_id: 2
peers: {1: "10.213.0.11:7373", 2: "10.213.0.12:7373", 3: "10.213.0.13:7373"}
vault_block: hsm.vault
internode_rule: primary
version: 2025-10-01T00-00-00Z
`
	s, err := ParseSettings([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if s.NodeID != 2 || len(s.Peers) != 3 || s.Peers[3] != "10.213.0.13:7373" || s.VaultBlock != VaultBlockShort || s.InternodeRule != RulePrimary {
		t.Errorf("got %+v", s)
	}
	defaults, err := ParseSettings([]byte("node_id: 1\npeers: {1: \"127.0.0.1:7373\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if defaults.VaultBlock != VaultBlockHashicorp || defaults.InternodeRule != RuleShared ||
		defaults.HSMNames != Defaults.HSMNames || defaults.Unseal != Defaults.Unseal ||
		defaults.RestartRecreatesRemoved != Defaults.RestartRecreatesRemoved {
		t.Errorf("defaults = %+v", defaults)
	}
	variant, err := ParseSettings([]byte(good + "hsm_names: product\nunseal: any\nrestart_recreates_removed: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if variant.HSMNames != NamesProduct || variant.Unseal != UnsealAny || !variant.RestartRecreatesRemoved {
		t.Errorf("variant = %+v", variant)
	}

	bad := []struct{ name, doc, want string }{
		{"unknown key", good + "debug: true\n", `line 6: unknown key "debug"`},
		{"self not a peer", strings.Replace(good, "node_id: 2", "node_id: 4", 1), "peers must include this node (4)"},
		{"bad rule", strings.Replace(good, "primary", "first", 1), "line 4: internode_rule must be shared or primary"},
		{"bad block", strings.Replace(good, "hsm.vault", "hsm.openbao", 1), "line 3: vault_block must be"},
		{"bad id", strings.Replace(good, "node_id: 2", "node_id: -2", 1), "line 1: node_id must be a uint32"},
		{"no peers", "node_id: 1\n", `missing required key "peers"`},
		{"bad naming", good + "hsm_names: vault\n", "line 6: hsm_names must be legacy or product"},
		{"bad unseal", good + "unseal: some\n", "line 6: unseal must be all or any"},
		{"bad recreate", good + "restart_recreates_removed: yes\n", "line 6: restart_recreates_removed must be false or true"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSettings([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestVariantCheck(t *testing.T) {
	if err := Defaults.Check(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if Defaults.HSMNames != NamesProduct || Defaults.Unseal != UnsealAny || Defaults.AdminIdentity != AdminPinned || Defaults.RestartRecreatesRemoved {
		t.Errorf("the lab's defaults changed without this test: %+v", Defaults)
	}
	bad := Defaults
	bad.Unseal = "some"
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "unseal must be all or any") {
		t.Errorf("bad unseal: %v", err)
	}
}

func TestReadFaults(t *testing.T) {
	dir := t.TempDir()
	f, err := ReadFaults(filepath.Join(dir, "missing"))
	if err != nil || f != (Faults{}) {
		t.Fatalf("missing dir: %+v, %v", f, err)
	}
	writeFile(t, filepath.Join(dir, "fail-start"), "")
	writeFile(t, filepath.Join(dir, "hang-on-stop"), "")
	writeFile(t, filepath.Join(dir, "slow-start"), "3\n")
	writeFile(t, filepath.Join(dir, "crash-after"), "0.5")
	f, err = ReadFaults(dir)
	want := Faults{FailStart: true, HangOnStop: true, SlowStart: 3 * time.Second, CrashAfter: 500 * time.Millisecond}
	if err != nil || f != want {
		t.Fatalf("got %+v, %v; want %+v", f, err, want)
	}
	writeFile(t, filepath.Join(dir, "fail-start"), "vault\n")
	if f, err = ReadFaults(dir); err != nil || !f.FailStart || !f.FailWithVault {
		t.Fatalf("fail-start vault: %+v, %v", f, err)
	}
	writeFile(t, filepath.Join(dir, "slow-start"), "soon")
	if _, err := ReadFaults(dir); err == nil || !strings.Contains(err.Error(), `got "soon"`) {
		t.Fatalf("bad content: %v", err)
	}
}
