// Package build holds the version stamp of the binary. The release build sets
// these with -ldflags "-X github.com/kmsctl/kmsctl/cmd/build.Version=...", so
// a bug report can name the exact commit; local builds say "dev".
package build

// Stamped at link time; see .goreleaser.yaml.
var (
	// Version is the release version, e.g. "1.2.0".
	Version = "dev"
	// Commit is the full git commit hash.
	Commit = "dev"
	// Date is the commit time in RFC 3339.
	Date = "dev"
)
