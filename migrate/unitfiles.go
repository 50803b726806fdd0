package migrate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsctl/kmsctl/migrate/envfile"
	"github.com/kmsctl/kmsctl/remote"
)

// UnitFiles is what the node's systemd unit really uses, read with
// `systemctl show`: the daemon's --config (from ExecStart and
// MINIO_KMS_OPTS), its EnvironmentFiles, its Environment= settings and the
// files (unit and drop-ins) that define it.
type UnitFiles struct {
	Argv        []string
	EnvFiles    []string
	Environment []string
	Sources     []string // FragmentPath and DropInPaths
	Config      string   // --config of the daemon, "" when not found
}

const unitFileProps = "ExecStart,EnvironmentFiles,Environment,FragmentPath,DropInPaths"

// ReadUnitFiles reads the unit's definition on the node.
func ReadUnitFiles(ctx context.Context, n remote.Node, unit string) (UnitFiles, error) {
	res, err := n.Run(ctx, remote.Command{Args: []string{"systemctl", "show", "-p", unitFileProps, "--", unitName(unit)}})
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("exit %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	if err != nil {
		return UnitFiles{}, fmt.Errorf("node %s: systemctl show %s: %w", n.Name(), unit, err)
	}
	return parseUnitFiles(res.Stdout), nil
}

func unitName(unit string) string {
	if strings.Contains(unit, ".") {
		return unit
	}
	return unit + ".service"
}

// parseUnitFiles reads the KEY=VALUE lines of systemctl show.
func parseUnitFiles(out []byte) UnitFiles {
	var u UnitFiles
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "ExecStart":
			if _, argv, ok := strings.Cut(v, "argv[]="); ok {
				argv, _, _ = strings.Cut(argv, " ;")
				u.Argv = strings.Fields(argv)
			}
		case "EnvironmentFiles":
			if f, _, _ := strings.Cut(v, " ("); f != "" {
				u.EnvFiles = append(u.EnvFiles, strings.TrimPrefix(f, "-"))
			}
		case "Environment":
			u.Environment = append(u.Environment, splitQuoted(v)...)
		case "FragmentPath":
			if v != "" {
				u.Sources = append(u.Sources, v)
			}
		case "DropInPaths":
			u.Sources = append(u.Sources, strings.Fields(v)...)
		}
	}
	return u
}

// daemonConfig finds the daemon's --config: in ExecStart's argv, or in the
// MINIO_KMS_OPTS it expands (Environment=, then the env files in order).
func daemonConfig(u UnitFiles, envs map[string][]byte) string {
	if c := optionValue(u.Argv, "--config"); c != "" {
		return c
	}
	if !slices.ContainsFunc(u.Argv, func(a string) bool { return strings.Contains(a, "MINIO_KMS_OPTS") }) {
		return ""
	}
	opts := ""
	for _, e := range u.Environment {
		if v, ok := strings.CutPrefix(e, "MINIO_KMS_OPTS="); ok {
			opts = v
		}
	}
	for _, f := range u.EnvFiles {
		if v, ok, err := envfile.Value(envs[f], "MINIO_KMS_OPTS"); err == nil && ok {
			opts = v
		}
	}
	return optionValue(strings.Fields(opts), "--config")
}

// ResolveUnitFiles makes the target's paths the ones its unit uses: a path
// the inventory leaves unset is taken from the unit; one it sets but the
// unit does not use is refused, naming both. The HSM key set anywhere else
// in the unit's environment (an Environment= in the unit or a drop-in, a
// second EnvironmentFile) is refused with the file and line: stage 2 would
// remove it from one file while the daemon still gets it from another.
func ResolveUnitFiles(ctx context.Context, t *Target) error {
	u, err := ReadUnitFiles(ctx, t.Node, t.Unit)
	if err != nil {
		return err
	}
	envs := map[string][]byte{}
	for _, f := range u.EnvFiles {
		b, _, err := t.Node.ReadFile(ctx, f)
		if err != nil && !isNotExist(err) {
			return fmt.Errorf("node %s: read %s (an EnvironmentFile of %s): %w", t.Name, f, t.Unit, err)
		}
		envs[f] = b
	}
	var errs []error
	if len(u.EnvFiles) > 0 && !slices.Contains(u.EnvFiles, t.EnvPath) {
		if t.EnvSet || len(u.EnvFiles) > 1 {
			errs = append(errs, fmt.Errorf("node %s: the inventory's env file %s is not an EnvironmentFile of %s (it reads %s)", t.Name, t.EnvPath, t.Unit, strings.Join(u.EnvFiles, ", ")))
		} else {
			t.EnvPath = u.EnvFiles[0]
		}
	}
	if c := daemonConfig(u, envs); c != "" && c != t.ConfigPath {
		if t.ConfigSet {
			errs = append(errs, fmt.Errorf("node %s: the inventory's config %s is not the daemon's: %s runs with --config %s", t.Name, t.ConfigPath, t.Unit, c))
		} else {
			t.ConfigPath = c
		}
	}
	errs = append(errs, otherKeySources(ctx, t, u, envs)...)
	return errors.Join(errs...)
}

// otherKeySources finds MINIO_KMS_HSM_KEY given to the unit other than by
// the env file kmsctl edits. Only the key's name and line are reported,
// never its value.
func otherKeySources(ctx context.Context, t *Target, u UnitFiles, envs map[string][]byte) []error {
	var errs []error
	for _, f := range u.EnvFiles {
		if f == t.EnvPath {
			continue
		}
		if ok, _ := envfile.HasKey(envs[f], EnvKey); ok {
			errs = append(errs, fmt.Errorf("node %s: %s:%d: a second EnvironmentFile of %s sets %s; remove it there (kmsctl edits only %s)", t.Name, f, keyLine(envs[f]), t.Unit, EnvKey, t.EnvPath))
		}
	}
	if !slices.ContainsFunc(u.Environment, func(e string) bool { return strings.HasPrefix(e, EnvKey+"=") }) {
		return errs
	}
	where := keyInFiles(ctx, t.Node, u.Sources)
	if where == "" {
		where = "the unit's Environment= (" + strings.Join(u.Sources, ", ") + ")"
	}
	return append(errs, fmt.Errorf("node %s: %s: an Environment= line sets %s for %s; move the key to %s or remove it there before running kmsctl", t.Name, where, EnvKey, t.Unit, t.EnvPath))
}

// keyLine is the 1-based line of the key's last assignment (0: unknown).
func keyLine(b []byte) int {
	line := 0
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimLeft(strings.TrimPrefix(strings.TrimSpace(l), "export "), " \t"), EnvKey+"=") {
			line = i + 1
		}
	}
	return line
}

// keyInFiles names file:line of the unit files that mention the key; grep
// prints only the match (the key's name), never the line with its value.
func keyInFiles(ctx context.Context, n remote.Node, files []string) string {
	if len(files) == 0 {
		return ""
	}
	args := append([]string{"grep", "-H", "-n", "-o", "--", EnvKey}, files...)
	res, err := n.Run(ctx, remote.Command{Args: args, Sudo: true})
	if err != nil {
		return ""
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		if f, rest, ok := strings.Cut(l, ":"); ok {
			ln, _, _ := strings.Cut(rest, ":")
			out = append(out, f+":"+ln)
		}
	}
	return strings.Join(out, ", ")
}

// splitQuoted splits systemctl show's Environment= value: entries are
// separated by spaces, and an entry holding spaces is double-quoted.
func splitQuoted(v string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, c := range v {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
