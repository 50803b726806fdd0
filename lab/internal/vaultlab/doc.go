// Package vaultlab runs the lab's real HashiCorp Vault (v1.21.1, built from
// the Go module proxy by lab/vault) and sets it up the way docs/design.md
// ("Vault set-up (lab)") fixes, so that kmsctl and the key-manager stand-in
// talk to a genuine Vault rather than a mock.
//
// # Storage and the "Vault stopped" fault
//
// Vault runs as a dev server (-dev -dev-no-store-token), but with two
// deliberate changes to plain dev mode:
//
//   - Storage is the file backend under Config.Dir/data, given in a
//     -config file, instead of dev mode's in-memory storage. A stopped
//     Vault (a real, terminated process, so clients see "connection
//     refused") can then be started again with its transit keys, policies,
//     roles and secret IDs intact: the "vault stop" fault is truthful and
//     healable. SIGSTOP was rejected: clients would see time-outs, not a
//     stopped server.
//   - -dev-skip-init: dev mode's own initialisation prints the unseal key
//     and root token to stdout (the log). Start instead initialises Vault
//     through sys/init with one key share, writes the unseal key and root
//     token into 0600 files of Config.SecretsDir, and unseals. Secrets thus
//     appear in neither argv nor the log. A restart finds the storage
//     initialised and only unseals.
//
// Dev mode still adds its plain-HTTP listener; it is bound to the loopback
// address Config.DevAddr and unused by the lab. Everyone uses the TLS
// listener on Config.Addr, with the lab CA.
//
// # Kubernetes auth
//
// The kubernetes auth mount sends TokenReview requests to the lab's own
// endpoint (ServeTokenReview), which authenticates exactly the service
// account tokens minted by MintServiceAccountJWT, as a Kubernetes API
// server would, so auth/kubernetes/login is exercised for real.
package vaultlab
