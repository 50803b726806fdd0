package cmd

import (
	"encoding/json"
	"fmt"
	"io"
)

// writeJSON writes v as indented JSON followed by a newline: the one way
// every command prints its -o json document, so all of them look alike.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
