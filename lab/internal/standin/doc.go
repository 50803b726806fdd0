// Package standin is the lab's stand-in for the AIStor Key Manager server
// (minkms), whose real binary is proprietary. It behaves as the published
// facts say, strictly enough that a wrong edit by kmsctl breaks it: strict
// config parsing, a root encryption key sealed per HSM (local key, Vault
// transit), a small Raft-like cluster with inter-node keys derived from an
// HSM, the documented health endpoints and the ClusterStatus admin command,
// and fault knobs. docs/design.md ("The key-manager stand-in") is its contract.
package standin
