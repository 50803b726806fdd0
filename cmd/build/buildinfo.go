package build

import "runtime/debug"

// Stamp is the version, commit and date the binary reports.
type Stamp struct {
	Version, Commit, Date string
}

// Current is the stamp of this binary: the link-time values of a release
// build, else what the Go toolchain recorded (`go install ...@v1.2.0` gives
// the module version, a build from a checkout the VCS commit and time), so
// only a binary built without either says "dev".
func Current() Stamp {
	bi, _ := debug.ReadBuildInfo()
	return FromBuildInfo(Stamp{Version: Version, Commit: Commit, Date: Date}, bi)
}

// FromBuildInfo fills the "dev" fields of linked from bi.
func FromBuildInfo(linked Stamp, bi *debug.BuildInfo) Stamp {
	if bi == nil {
		return linked
	}
	s := linked
	if s.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		s.Version = bi.Main.Version
	}
	settings := map[string]string{}
	for _, kv := range bi.Settings {
		settings[kv.Key] = kv.Value
	}
	if s.Commit == "dev" && settings["vcs.revision"] != "" {
		s.Commit = settings["vcs.revision"]
		if settings["vcs.modified"] == "true" {
			s.Commit += "-dirty"
		}
	}
	if s.Date == "dev" && settings["vcs.time"] != "" {
		s.Date = settings["vcs.time"]
	}
	return s
}
