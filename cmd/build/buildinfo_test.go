package build

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	dev := Stamp{"dev", "dev", "dev"}
	installed := &debug.BuildInfo{Main: debug.Module{Path: "github.com/kmsctl/kmsctl", Version: "v1.4.0"}}
	checkout := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	tests := []struct {
		name   string
		linked Stamp
		bi     *debug.BuildInfo
		want   Stamp
	}{
		{"go install @version", dev, installed, Stamp{"v1.4.0", "dev", "dev"}},
		{"checkout build", dev, checkout, Stamp{"dev", "abc123-dirty", "2026-12-01T10:00:00Z"}},
		{"release build wins", Stamp{"1.5.0", "fff", "2026-12-02"}, checkout, Stamp{"1.5.0", "fff", "2026-12-02"}},
		{"no build info", dev, nil, dev},
	}
	for _, tt := range tests {
		if got := FromBuildInfo(tt.linked, tt.bi); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
