package remote

import (
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShellQuote(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"systemctl", "restart", "minkms"}, "systemctl restart minkms"},
		{[]string{"/etc/minkms/config.yaml", "a-b_c@d%e+f:g,h.i"}, "/etc/minkms/config.yaml a-b_c@d%e+f:g,h.i"},
		{[]string{""}, "''"},
		{[]string{"a b"}, "'a b'"},
		{[]string{"it's"}, `'it'\''s'`},
		{[]string{"FOO=bar", "~root", "$x", "a;b", "*"}, `'FOO=bar' '~root' '$x' 'a;b' '*'`},
		{[]string{"line\nbreak"}, "'line\nbreak'"},
	}
	for _, tc := range tests {
		if got := ShellQuote(tc.args...); got != tc.want {
			t.Errorf("ShellQuote(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// FuzzShellQuote checks that /bin/sh turns the quoted word back into exactly
// the original bytes: sh -c 'printf %s QUOTED' prints s.
func FuzzShellQuote(f *testing.F) {
	for _, s := range []string{"", "plain", "a b", "'", `'\''`, "$(id)", "`id`", "a\nb", "\\", "\"", "FOO=1", "~", "-n", "*?[", "é\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			t.Skip("argv cannot carry NUL")
		}
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+ShellQuote(s)).Output()
		if err != nil {
			t.Fatalf("sh failed for %q: %v", s, err)
		}
		if string(out) != s {
			t.Fatalf("round trip of %q gave %q (valid UTF-8: %v)", s, out, utf8.ValidString(s))
		}
	})
}

func TestShellQuoteSeveralWords(t *testing.T) {
	args := []string{"a b", "", "it's", "$HOME"}
	out, err := exec.Command("/bin/sh", "-c", `printf '[%s]' `+ShellQuote(args...)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "[a b][][it's][$HOME]"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}
