package cmd

import (
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
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

// TestPackageMap compares the package map in docs/design.md with the
// product module's tree: every package (a directory with non-test Go files,
// lab/ excluded: it is its own module) is listed, nothing else is, and its
// `->` line names exactly the kmsctl packages its non-test files import.
func TestPackageMap(t *testing.T) {
	doc, err := os.ReadFile("../docs/design.md")
	if err != nil {
		t.Fatal(err)
	}
	want := packageMap(t, string(doc))
	got := packageTree(t, "..")
	for pkg, imps := range got {
		w, ok := want[pkg]
		if !ok {
			t.Errorf("docs/design.md package map: %s is missing", pkg)
			continue
		}
		if strings.Join(w, " ") != strings.Join(imps, " ") {
			t.Errorf("docs/design.md package map: %s imports %q, the map says %q", pkg, imps, w)
		}
	}
	for pkg := range want {
		if _, ok := got[pkg]; !ok {
			t.Errorf("docs/design.md package map: %s is not a package", pkg)
		}
	}
}

// packageMap reads the fenced block after "## Package map": a package line
// starts in column 0, its imports follow on a "  -> " line.
func packageMap(t *testing.T, doc string) map[string][]string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "## Package map")
	if !ok {
		t.Fatal("docs/design.md has no package map")
	}
	_, block, _ := strings.Cut(rest, "```\n")
	block, _, _ = strings.Cut(block, "```")
	out := map[string][]string{}
	last := ""
	for _, line := range strings.Split(block, "\n") {
		switch f := strings.Fields(line); {
		case len(f) == 0:
		case f[0] == "->":
			out[last] = append(out[last], f[1:]...)
			sort.Strings(out[last])
		case !strings.HasPrefix(line, " "):
			last = f[0]
			out[last] = []string{}
		}
	}
	return out
}

// packageTree lists the product module's packages and the kmsctl packages
// their non-test files import.
func packageTree(t *testing.T, root string) map[string][]string {
	t.Helper()
	const module = "github.com/kmsctl/kmsctl/"
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && rel != "." && (rel == "lab" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		imps := out[pkg]
		for _, s := range f.Imports {
			if v, _ := strconv.Unquote(s.Path.Value); strings.HasPrefix(v, module) && !slices.Contains(imps, v[len(module):]) {
				imps = append(imps, v[len(module):])
			}
		}
		sort.Strings(imps)
		out[pkg] = imps
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
