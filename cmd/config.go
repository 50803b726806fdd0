package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/kmsctl/kmsctl/inventory"
)

// weakensSecurity names the settings that relax a protection. They are
// accepted only as command-line flags, never from a config file or a
// KMSCTL_* variable: a checked-out repository or an inherited environment
// must not be able to turn host key checking off behind the operator's back.
func weakensSecurity(name string) bool {
	return name == flagAcceptNewHostKeys || strings.HasPrefix(name, "insecure")
}

// configPath is the config file to read: --config (or KMSCTL_CONFIG), else
// $XDG_CONFIG_HOME/kmsctl/config.yaml, else ~/.config/kmsctl/config.yaml.
// Never a file of the current directory. explicit reports whether the
// operator named it (then it must exist).
func configPath(v *viper.Viper, getenv func(string) string) (path string, explicit bool) {
	if p := v.GetString(flagConfig); p != "" {
		return p, true
	}
	if dir := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "kmsctl", "config.yaml"), false
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".config", "kmsctl", "config.yaml"), false
	}
	return "", false
}

// refuseWeakeningEnv fails when a KMSCTL_* variable tries to set a setting
// that weakens security.
func refuseWeakeningEnv(getenv func(string) string) error {
	fs := pflag.NewFlagSet("globals", pflag.ContinueOnError)
	addGlobalFlags(fs)
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		name := envName(fl.Name)
		if v := getenv(name); v != "" && weakensSecurity(fl.Name) && !isFalse(v) && err == nil {
			err = usageError(fmt.Errorf("%s is set: --%s weakens security and is accepted only on the command line; unset the variable", name, fl.Name))
		}
	})
	return err
}

// isFalse: a boolean "off", which weakens nothing.
func isFalse(v string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	return err == nil && !b
}

// envName is the KMSCTL_* variable of a global flag.
func envName(flag string) string {
	return "KMSCTL_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// mergeConfigFile reads the config file, checks every key and value (each
// problem named FILE:LINE: KEY) and merges it under flags and environment.
func mergeConfigFile(v *viper.Viper, f *Factory) error {
	path, explicit := configPath(v, f.Getenv)
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return usageError(fmt.Errorf("config file: %w", err))
	}
	settings, err := parseConfig(path, data)
	if err != nil {
		return usageError(err)
	}
	return v.MergeConfigMap(settings)
}

// parseConfig checks a config file: a mapping of known global flag names to
// valid scalar values.
func parseConfig(path string, data []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, inventory.SyntaxError(path, data, err)
	}
	if len(doc.Content) == 0 {
		return map[string]any{}, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: the config file must be a mapping of setting: value", path, top.Line)
	}
	scratch := pflag.NewFlagSet("config", pflag.ContinueOnError)
	addGlobalFlags(scratch)
	out := map[string]any{}
	var errs []error
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, val := top.Content[i], top.Content[i+1]
		if err := checkConfigEntry(scratch, k, val); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d:%d: %s: %w", path, k.Line, k.Column, k.Value, err))
			continue
		}
		out[k.Value] = val.Value
	}
	return out, errors.Join(errs...)
}

// checkConfigEntry validates one key and its value against the global flag
// of the same name.
func checkConfigEntry(scratch *pflag.FlagSet, k, val *yaml.Node) error {
	fl := scratch.Lookup(k.Value)
	switch {
	case fl == nil || k.Value == flagConfig:
		return fmt.Errorf("unknown setting (known: %s)", strings.Join(configKeys(scratch), ", "))
	case weakensSecurity(k.Value) && !isFalse(val.Value):
		return fmt.Errorf("weakens security: accepted only as the command-line flag --%s", k.Value)
	case val.Kind != yaml.ScalarNode:
		return errors.New("must be a single value")
	}
	if err := scratch.Set(k.Value, val.Value); err != nil {
		return fmt.Errorf("%q: %w", val.Value, err)
	}
	g := globalsFromFlags(scratch)()
	for _, c := range globalChecks {
		if c.name == k.Value {
			return c.check(g)
		}
	}
	return nil
}

// configKeys lists the settings a config file may hold.
func configKeys(fs *pflag.FlagSet) []string {
	var keys []string
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Name != flagConfig && !weakensSecurity(fl.Name) {
			keys = append(keys, fl.Name)
		}
	})
	slices.Sort(keys)
	return keys
}
