// Command vault is HashiCorp Vault built from the Go module proxy as an
// ordinary dependency, so the lab runs a real Vault server without
// downloading a prebuilt binary.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
