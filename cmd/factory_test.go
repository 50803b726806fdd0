package cmd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCommandsTakeProcessStateFromTheFactory: the clock, the environment,
// the host name and the PID are read in one place, the production Factory
// (factory.go, and SystemIO's NO_COLOR in iostreams.go); every command
// gets them from the Factory, so its tests can set each one.
func TestCommandsTakeProcessStateFromTheFactory(t *testing.T) {
	direct := regexp.MustCompile(`\b(os\.(Getenv|LookupEnv|Environ|Hostname|Getpid|UserHomeDir)|time\.(Now|Since|Until|After|Sleep|Tick|NewTimer|NewTicker))\b`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "factory.go" || name == "iostreams.go" ||
			name == "live.go" { // live.go: the spinner's own animation timing, display only, never a decision
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := direct.FindString(line); m != "" && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("%s:%d: %s read directly: take it from the Factory", name, i+1, m)
			}
		}
	}
}
