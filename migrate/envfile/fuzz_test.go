package envfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRemoveEnvKey checks RemoveKey's promises on any input: no panic; a
// refusal is an *Error; a success removes the key for systemd, keeps
// every other variable and byte (whole lines only go), and is a fixed point.
func FuzzRemoveEnvKey(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/env/*.env")
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("K=\"open\nMINIO_KMS_HSM_KEY=x\n"))
	f.Add([]byte("A=1\rMINIO_KMS_HSM_KEY=x\\\r\nB=2"))
	f.Fuzz(func(t *testing.T, input []byte) {
		Redact(input, testEnvKey)
		res, err := RemoveKey(input, testEnvKey)
		if err != nil {
			var ee *Error
			if !errors.As(err, &ee) {
				t.Fatalf("refusal is not an *Error: %v", err)
			}
			return
		}
		if err := checkEnvRemoval(input, res, testEnvKey); err != nil {
			t.Fatal(err)
		}
	})
}
