package cmd

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestDocsUpToDate regenerates the CLI reference and compares it with the
// committed docs/cli, so a changed flag or help text cannot ship with stale
// documentation.
func TestDocsUpToDate(t *testing.T) {
	f, _, _ := testFactory(nil, nil, nil)
	tmp := t.TempDir()
	if err := writeDocs(NewRootCmd(f), tmp); err != nil {
		t.Fatal(err)
	}
	const committed = "../docs/cli"
	want := readTree(t, tmp)
	got := readTree(t, committed)
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("docs/cli/%s is stale or missing: run `go run ./cmd/kmsctl docs`", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("docs/cli/%s documents no command: run `go run ./cmd/kmsctl docs` after deleting docs/cli", name)
		}
	}
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}
