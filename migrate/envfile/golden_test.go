package envfile

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

// updateGolden rewrites the golden files of the env corpus:
// go test ./migrate/envfile -run Golden -update. Review the diff before committing.
var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/env")

// TestGoldenFilesHaveInputs catches golden files left behind by a renamed or
// removed corpus input.
func TestGoldenFilesHaveInputs(t *testing.T) {
	golden.CheckInputs(t, "testdata/env", ".env")
}

func TestRemoveEnvKeyGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/env/*.env")
	if err != nil || len(inputs) < 10 {
		t.Fatalf("env corpus: %d files, %v", len(inputs), err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			res, err := RemoveKey(src, testEnvKey)
			if err != nil {
				t.Fatalf("RemoveKey: %v", err)
			}
			stem := strings.TrimSuffix(in, ".env")
			golden.Check(t, stem+".golden", res.Output, *updateGolden)
			golden.Check(t, stem+".report", envReport(t, src, res), *updateGolden)
			if err := checkEnvRemoval(src, res, testEnvKey); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(Redact(src, testEnvKey), []byte("SECRET")) {
				t.Fatal("the redacted input still holds a key")
			}
		})
	}
}

// envReport is the reviewed summary of one removal, next to its output.
func envReport(t *testing.T, src []byte, res Result) []byte {
	before, err := HasKey(src, testEnvKey)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "set before: %v\nremoved: %d\nalready absent: %v\n", before, res.Removed, res.AlreadyAbsent)
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	fmt.Fprintf(&b, "redacted input:\n%s", Redact(src, testEnvKey))
	return []byte(b.String())
}

// checkEnvRemoval is what every removal must satisfy: the key is gone for
// systemd, every other variable keeps its value, only whole lines went
// away, nothing secret is left in the redacted view, and a second removal
// changes nothing.
func checkEnvRemoval(src []byte, res Result, key string) error {
	if has, err := HasKey(res.Output, key); err != nil || has {
		return fmt.Errorf("after removal: set=%v err=%v", has, err)
	}
	before, after := effectiveEnv(parseEnvFile(src)), effectiveEnv(parseEnvFile(res.Output))
	delete(before, key)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		return fmt.Errorf("other variables changed:\n%v\n%v", before, after)
	}
	if !wholeLinesRemoved(src, res.Output) {
		return fmt.Errorf("the output is not the input minus whole lines")
	}
	if (res.Removed == 0) != bytes.Equal(src, res.Output) || res.AlreadyAbsent != (res.Removed == 0) {
		return fmt.Errorf("removed=%d absent=%v but output changed=%v", res.Removed, res.AlreadyAbsent, !bytes.Equal(src, res.Output))
	}
	again, err := RemoveKey(res.Output, key)
	if err != nil || again.Removed != 0 || !again.AlreadyAbsent || !bytes.Equal(again.Output, res.Output) {
		return fmt.Errorf("second removal: err=%v removed=%d", err, again.Removed)
	}
	return nil
}

// wholeLinesRemoved reports whether out is in with some lines deleted, a
// line being the bytes up to and including "\n" or "\r" (systemd's line
// ends).
func wholeLinesRemoved(in, out []byte) bool {
	split := func(b []byte) []string {
		var lines []string
		for len(b) > 0 {
			i := bytes.IndexAny(b, "\r\n")
			if i < 0 {
				return append(lines, string(b))
			}
			if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			lines, b = append(lines, string(b[:i+1])), b[i+1:]
		}
		return lines
	}
	o := split(out)
	j := 0
	for _, l := range split(in) {
		if j < len(o) && o[j] == l {
			j++
		}
	}
	return j == len(o)
}

// testEnvKey is the variable the corpus is about (plan.go's EnvKey; spelled
// out so these tests do not depend on the plan code).
const testEnvKey = "MINIO_KMS_HSM_KEY"
