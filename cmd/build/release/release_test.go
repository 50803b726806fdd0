package release

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// dist is the snapshot build's dist/ directory, or the test skips.
func dist(t *testing.T) string {
	t.Helper()
	d := os.Getenv("KMSCTL_DIST")
	if d == "" {
		t.Skip("KMSCTL_DIST is not set: run `make release-check`")
	}
	return d
}

func one(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(pattern)
	if len(m) != 1 {
		t.Fatalf("%s: %d matches, want 1 (%v)", pattern, len(m), m)
	}
	return m[0]
}

func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	c := exec.Command(name, args...)
	c.Env = append(os.Environ(), env...)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestReleaseDebInstalls unpacks the .deb into a throwaway root (as dpkg
// would install it) and uses the installed binary, man page and bash
// completion.
func TestReleaseDebInstalls(t *testing.T) {
	deb := one(t, filepath.Join(dist(t), "kmsctl_*_"+runtime.GOARCH+".deb"))
	root := t.TempDir()
	run(t, nil, "dpkg-deb", "-x", deb, root)
	bin := filepath.Join(root, "usr", "bin", "kmsctl")
	if v := run(t, nil, bin, "version"); !strings.Contains(v, "kmsctl ") || strings.Contains(v, "kmsctl dev") {
		t.Errorf("installed kmsctl version: %q", v)
	}
	manDir := filepath.Join(root, "usr", "share", "man")
	page := run(t, []string{"MANWIDTH=80", "MAN_KEEP_FORMATTING=0"}, "man", "-M", manDir, "-P", "cat", "kmsctl-hsm-enable-vault")
	if !strings.Contains(page, "enable-vault") || !strings.Contains(page, "--dry-run") {
		t.Errorf("man kmsctl-hsm-enable-vault:\n%s", page)
	}
	if _, err := os.Stat(filepath.Join(manDir, "man1", "kmsctl-docs.1")); err == nil {
		t.Error("the developer-only docs command has a man page in the package")
	}
	comp := filepath.Join(root, "usr", "share", "bash-completion", "completions", "kmsctl")
	const framework = "/usr/share/bash-completion/bash_completion" // what the deb's completion runs under
	if _, err := os.Stat(framework); err != nil {
		t.Fatalf("%s missing: apt-get install bash-completion (make release-tools does)", framework)
	}
	script := `source ` + framework + `; source "$1"; COMP_WORDS=(kmsctl hsm en); COMP_CWORD=2; COMP_LINE="kmsctl hsm en"; COMP_POINT=${#COMP_LINE}; __start_kmsctl; printf '%s\n' "${COMPREPLY[@]}"`
	got := run(t, []string{"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH")}, "bash", "-c", script, "bash", comp)
	if !strings.Contains(got, "enable-vault") {
		t.Errorf("bash completion of 'kmsctl hsm en': %q", got)
	}
	for _, f := range []string{"usr/share/zsh/vendor-completions/_kmsctl", "usr/share/fish/vendor_completions.d/kmsctl.fish", "usr/share/doc/kmsctl/exit-codes.md", "usr/share/doc/kmsctl/LICENSE"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("package lacks /%s", f)
		}
	}
}

// TestReleaseArchiveLayout: the archive has the binary, man/man1, the three
// completions and the docs; the rpm exists; every archive has an SPDX SBOM.
func TestReleaseArchiveLayout(t *testing.T) {
	d := dist(t)
	archive := one(t, filepath.Join(d, "kmsctl_*_linux_"+runtime.GOARCH+".tar.gz"))
	names := tarNames(t, archive)
	for _, want := range []string{"kmsctl", "man/man1/kmsctl.1", "man/man1/kmsctl-status.1", "completions/kmsctl.bash", "completions/_kmsctl", "completions/kmsctl.fish", "docs/guide.md", "docs/exit-codes.md", "docs/cli/kmsctl.md", "LICENSE", "README.md"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s lacks %s (has %v)", filepath.Base(archive), want, names)
		}
	}
	if slices.Contains(names, "man/man1/kmsctl-docs.1") {
		t.Error("the archive ships the docs command's man page")
	}
	one(t, filepath.Join(d, "kmsctl-*"+map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]+".rpm"))
	sbom := one(t, archive+".spdx.json")
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []any  `json:"packages"`
	}
	b, _ := os.ReadFile(sbom)
	if err := json.Unmarshal(b, &doc); err != nil || !strings.HasPrefix(doc.SPDXVersion, "SPDX-") || len(doc.Packages) == 0 {
		t.Errorf("%s is not an SPDX SBOM: %v %q %d", sbom, err, doc.SPDXVersion, len(doc.Packages))
	}
}

func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.TrimPrefix(h.Name, "./"))
	}
}
