// Package load is the lab's traffic generator (issue 13): a client of every
// node of a running lab that fails over between them as the public SDK's
// client does, driving a steady mix of key operations (decrypt and generate
// at a chosen rate, key creates at a slower one, and a write probe) while a
// migration runs, so that "the cluster kept serving and lost nothing" becomes
// figures: requests and failures by kind, the longest interval with no
// successful read, the time writes were refused, and a check, node by node,
// that every key and kept ciphertext still decrypts afterwards.
//
// It talks only to lab addresses (10.213.0.0/24 or loopback) and is test
// tooling: it may use github.com/minio/kms-go/kms, the product module may not.
package load
