package configedit

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/migrate/internal/golden"
)

// updateGolden rewrites the golden files of the config corpus:
// go test ./migrate/configedit -run Golden -update. Review the diff before committing.
var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/config")

// Fake credentials: tests grep for "SECRET" to prove redaction.
const (
	testRoleID   = "5c1fd7a2-0e7b-4f2e-9a3a-6f1d2c3b4a5e"
	testSecretID = "00000000-SECRET-0000-0000-000000000001"
)

// goldenSettings are the two settings sets every corpus file is edited with.
func goldenSettings() map[string]VaultSettings {
	return map[string]VaultSettings{
		"approle": {
			Server:  "https://vault.example.net:8200",
			AppRole: &AppRole{ID: testRoleID, Secret: testSecretID, Path: "approle"},
			Transit: Transit{Key: "minkms-sealing-key", Path: "transit"},
		},
		"kubernetes": {
			Server:     "https://vault.example.net:8200",
			Kubernetes: &Kubernetes{Role: "minkms", JWT: "/etc/minkms/k8s-token", Namespace: "ns-1", Path: "kubernetes"},
			Transit:    Transit{Key: "minkms-sealing-key", Namespace: "ns-1", Path: "kms-transit"},
		},
	}
}

// preferFor reads the wanted spelling from a corpus file's name.
func preferFor(name string) BlockPath {
	if strings.Contains(name, "prefer-vault") {
		return BlockVault
	}
	return BlockHashicorpVault
}

func TestEditConfigGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/config/*.yaml")
	if err != nil || len(inputs) < 15 {
		t.Fatalf("config corpus: %d files, %v", len(inputs), err)
	}
	for _, in := range inputs {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		stem := strings.TrimSuffix(in, ".yaml")
		for set, want := range goldenSettings() {
			t.Run(filepath.Base(stem)+"/"+set, func(t *testing.T) {
				prefer := preferFor(in)
				res, err := Apply(src, want, prefer)
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				golden.Check(t, stem+"."+set+".golden", res.Output, *updateGolden)
				golden.Check(t, stem+"."+set+".report", configReport(src, res), *updateGolden)
				again, err := Apply(res.Output, want, prefer)
				if err != nil || again.Changed || !bytes.Equal(again.Output, res.Output) {
					t.Fatalf("not idempotent: err=%v changed=%v", err, again.Changed)
				}
				if err := sameOutsideVault(src, res.Output); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// configReport is the reviewed summary of one edit, next to its output.
func configReport(src []byte, res Result) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "changed: %v\npath: %s\n", res.Changed, res.Path)
	switch {
	case res.Existing == nil:
		b.WriteString("existing: none\n")
	case !res.Changed:
		b.WriteString("existing: equal\n")
	default:
		b.WriteString("existing: differs\n")
	}
	fmt.Fprintf(&b, "removed lines: %d\nadded lines: %d\n", removedLines(src, res.Output), removedLines(res.Output, src))
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return []byte(b.String())
}

// removedLines counts lines of a that are not in b (as a multiset).
func removedLines(a, b []byte) int {
	count := map[string]int{}
	for _, l := range splitCfgLines(b) {
		count[l.text]++
	}
	n := 0
	for _, l := range splitCfgLines(a) {
		if count[l.text] > 0 {
			count[l.text]--
			continue
		}
		n++
	}
	return n
}

// TestGoldenFilesHaveInputs catches golden files left behind by a renamed or
// removed corpus input.
func TestGoldenFilesHaveInputs(t *testing.T) {
	golden.CheckInputs(t, "testdata/config", ".yaml")
}
