package inventory

import _ "embed"

// Example is the annotated inventory that `kmsctl inventory init` writes and
// docs/inventory.md shows; a test keeps the two byte-identical.
//
//go:embed example.yaml
var Example []byte
