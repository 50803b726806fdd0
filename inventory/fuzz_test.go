package inventory

import (
	"errors"
	"testing"
)

// FuzzLoad checks that no input panics the parser and that every rejection
// is positioned, so an operator always gets a line to look at.
func FuzzLoad(f *testing.F) {
	f.Add(Example)
	f.Add([]byte(minimal))
	f.Add([]byte(withVault(goodVault)))
	f.Add([]byte("version: v1\nssh: &a {port: 1}\nnodes: [{name: a, address: b, ssh: *a}]\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("fuzz.yaml", data)
		if err == nil {
			if inv == nil || len(inv.Nodes()) == 0 {
				t.Fatal("accepted inventory without nodes")
			}
			return
		}
		var joined interface{ Unwrap() []error }
		if !errors.As(err, &joined) {
			t.Fatalf("error is not a joined list: %T %v", err, err)
		}
		for _, e := range joined.Unwrap() {
			var fe *FieldError
			if !errors.As(e, &fe) || fe.Line < 1 || fe.Column < 1 {
				t.Fatalf("unpositioned problem: %#v", e)
			}
		}
	})
}
