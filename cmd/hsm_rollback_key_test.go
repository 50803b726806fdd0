package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRollbackLocalKeyFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte("hsm:aes256:SECRETKEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _, _ := testFactory(newScenario().dialer, nil, map[string]string{})
	o := &HSMRollbackOptions{LocalKeyFile: file, nodeDeps: f.nodeDeps()}
	if k, err := o.readLocalKey(); err != nil || k != "hsm:aes256:SECRETKEY" {
		t.Fatalf("file: %q, %v", k, err)
	}
	f.IO.In = strings.NewReader("hsm:aes256:SECRETKEY\n")
	o = &HSMRollbackOptions{LocalKeyFile: "-", nodeDeps: f.nodeDeps()}
	if k, err := o.readLocalKey(); err != nil || k != "hsm:aes256:SECRETKEY" {
		t.Fatalf("stdin: %q, %v", k, err)
	}
	f, _, errOut := testFactory(newScenario().dialer, nil, map[string]string{})
	code := Main(context.Background(), f, []string{"hsm", "rollback", "-i", "testdata/hsm-inventory.yaml", "--run", "r1", "--local-key-file", "-"})
	if code != ExitUsage || !strings.Contains(errOut.String(), "--yes") {
		t.Fatalf("--local-key-file - without --yes: exit %d, %s", code, errOut)
	}
}
