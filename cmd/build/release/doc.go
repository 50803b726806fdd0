// Package release holds the tests of the release artifacts that
// `make release-check` builds with goreleaser: they install the .deb into a
// throwaway root and use what it installed, as an operator would. Without
// KMSCTL_DIST (the dist/ directory of a snapshot build) they skip.
package release
