package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretRead(t *testing.T) {
	dir := t.TempDir()
	strict := filepath.Join(dir, "strict")
	loose := filepath.Join(dir, "loose")
	empty := filepath.Join(dir, "empty")
	must(t, os.WriteFile(strict, []byte("s3cr3t\n"), 0o600))
	must(t, os.WriteFile(loose, []byte("l00se\r\n"), 0o644))
	must(t, os.WriteFile(empty, []byte("\n"), 0o600))
	env := map[string]string{"SID": "from-env"}
	prompt := func(string) ([]byte, error) { return []byte("typed"), nil }
	tests := []struct {
		name     string
		s        Secret
		prompt   func(string) ([]byte, error)
		want     string
		wantErr  string
		wantWarn bool
	}{
		{name: "file", s: Secret{Name: "x", File: strict}, want: "s3cr3t"},
		{name: "loose file warns", s: Secret{Name: "x", File: loose}, want: "l00se", wantWarn: true},
		{name: "empty file", s: Secret{Name: "x", File: empty}, wantErr: "is empty"},
		{name: "missing file", s: Secret{Name: "x", File: filepath.Join(dir, "no")}, wantErr: "no such file"},
		{name: "file wins over prompt", s: Secret{Name: "x", File: strict}, prompt: prompt, want: "s3cr3t"},
		{name: "env", s: Secret{Name: "x", Env: "SID"}, want: "from-env"},
		{name: "env unset", s: Secret{Name: "x", Env: "NOPE"}, wantErr: "NOPE is empty or unset"},
		{name: "prompt", s: Secret{Name: "x"}, prompt: prompt, want: "typed"},
		{name: "no source", s: Secret{Name: "x"}, wantErr: "no source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warned []string
			got, err := tt.s.Read(SecretOptions{
				Getenv: func(k string) string { return env[k] },
				Prompt: tt.prompt,
				Warn:   func(m string) { warned = append(warned, m) },
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
			if (len(warned) > 0) != tt.wantWarn {
				t.Errorf("warnings %q, want warning: %v", warned, tt.wantWarn)
			}
			for _, w := range warned {
				if strings.Contains(w, string(got)) {
					t.Errorf("warning leaks the secret: %q", w)
				}
			}
		})
	}
}

func TestNoSecretIsTyped(t *testing.T) {
	_, err := Secret{Name: "x"}.Read(SecretOptions{})
	if !errors.Is(err, ErrNoSecret) {
		t.Fatalf("err = %v, want ErrNoSecret", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
