package labdir

import (
	"slices"
	"testing"
)

func TestReadEnvReadsWhatWriteEnvWrote(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	vars := [][2]string{{"PLAIN", "plain"}, {"QUOTE", "it's"}, {"EMPTY", ""}, {"SPACES", "a b  c"}}
	if err := l.WriteEnv(vars); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEnv(l.EnvFile())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PLAIN=plain", "QUOTE=it's", "EMPTY=", "SPACES=a b  c"}
	if !slices.Equal(got, want) {
		t.Fatalf("ReadEnv = %q, want %q", got, want)
	}
}
