// Package golden compares test output with reviewed golden files. The config
// and env-file editors keep their corpora in their own packages; this one
// helper rewrites them (-update) and finds orphans the same way for both.
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Check compares got with the golden file at path, or rewrites the file
// when update is set (the test package's -update flag), so a reviewer sees
// every change of output as a diff of testdata.
func Check(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output:\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// CheckInputs fails t for every golden file (*.golden, *.report) in dir
// that has no corpus input (same stem, extension input) next to it: a
// renamed or removed input must not leave a golden file behind that no test
// reads. A ".approle" or ".kubernetes" settings suffix before the extension
// is part of the name of the golden file, not of its input.
func CheckInputs(t testing.TB, dir, input string) {
	t.Helper()
	for _, ext := range []string{".golden", ".report"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
		sort.Strings(files)
		for _, f := range files {
			base := strings.TrimSuffix(f, ext)
			if filepath.Ext(base) == ".approle" || filepath.Ext(base) == ".kubernetes" {
				base = strings.TrimSuffix(base, filepath.Ext(base))
			}
			if _, err := os.Stat(base + input); err != nil {
				t.Errorf("%s has no input %s", f, base+input)
			}
		}
	}
}
