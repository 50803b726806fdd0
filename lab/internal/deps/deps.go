// Package deps pins the lab module's dependencies until real code uses them.
package deps

import (
	_ "github.com/hashicorp/vault/api"
	_ "github.com/minio/kms-go/kms"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/crypto/ssh"
	_ "google.golang.org/protobuf/encoding/protowire"
)
