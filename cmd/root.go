// Package cmd is the kmsctl command line: one file per command, each with an
// Options struct, a newCmd constructor that only fills the options, and a run
// function that does the work. Dependencies come from a Factory so that every
// command can be tested without SSH, a key manager or a terminal.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Global flag names, also the keys of the config file and (upper-cased,
// with "-" as "_", prefixed KMSCTL_) of the environment.
const (
	flagInventory         = "inventory"
	flagConfig            = "config"
	flagOutput            = "output"
	flagNoColor           = "no-color"
	flagParallel          = "parallel"
	flagTimeout           = "timeout"
	flagConnectTimeout    = "connect-timeout"
	flagSSHConfig         = "ssh-config"
	flagAcceptNewHostKeys = "accept-new-host-keys"
	flagSudoPasswordFile  = "sudo-password-file"
	flagAPIKeyFile        = "api-key-file"
	flagVerbose           = "verbose"
	flagWide              = "wide"
)

// Output formats of -o.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// annotNoConfig marks commands that must work whatever the config file and
// KMSCTL_* variables say (completion, version, help): a broken setting
// never keeps an operator from their shell completion or from --help.
const annotNoConfig = "kmsctl/no-config"

// NewRootCmd builds the whole command tree around f.
func NewRootCmd(f *Factory) *cobra.Command {
	v := viper.New()
	root := &cobra.Command{
		Use:   "kmsctl",
		Short: "Operate and migrate AIStor Key Manager (minkms) clusters over SSH",
		Long: `kmsctl inspects a running AIStor Key Manager (minkms) cluster over SSH and
systemd, and migrates it from its local HSM key to a HashiCorp Vault transit key.

Global flags can also be set in a config file ($XDG_CONFIG_HOME/kmsctl/config.yaml,
default ~/.config/kmsctl/config.yaml, or the file named by --config; never a
file of the current directory) or as KMSCTL_<FLAG> environment variables (e.g.
KMSCTL_INVENTORY); flags win over the environment, which wins over the file.
Unknown keys in the file are errors. Settings that weaken security
(--accept-new-host-keys) are accepted only as command-line flags.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			return loadGlobals(v, f, c)
		},
	}
	addGlobalFlags(root.PersistentFlags())
	_ = v.BindPFlags(root.PersistentFlags())
	v.SetEnvPrefix("KMSCTL")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(
		newCmdVersion(f, nil),
		newCmdDocs(f, nil),
		newCmdInventory(f),
		newCmdStatus(f, nil),
		newCmdVault(f),
		newCmdHSM(f),
	)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.InitDefaultCompletionCmd() // after SetOut: it captures the writer
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" || c.Name() == "help" {
			setAnnotation(c, annotNoConfig)
		}
	}
	refuseUnknownSubcommands(root)
	registerCompletions(root, f.Getenv)
	return root
}

func setAnnotation(c *cobra.Command, key string) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[key] = "true"
}

// needsConfig: false for c and the children of a command marked
// annotNoConfig.
func needsConfig(c *cobra.Command) bool {
	for ; c != nil; c = c.Parent() {
		if c.Annotations[annotNoConfig] != "" || c.Name() == cobra.ShellCompRequestCmd || c.Name() == cobra.ShellCompNoDescRequestCmd {
			return false
		}
	}
	return true
}

// refuseUnknownSubcommands makes every command group fail on an unknown
// subcommand (with cobra's "did you mean") instead of printing its help and
// exiting 0, so `kmsctl vault chek` can never pass in a script.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if !c.HasParent() || !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.SuggestionsMinimumDistance = 2
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
		return usageError(fmt.Errorf("%s\n\nRun '%s --help' for usage", msg, c.CommandPath()))
	}
}

func addGlobalFlags(fs *pflag.FlagSet) {
	fs.StringP(flagInventory, "i", "", "inventory file (create one with: kmsctl inventory init)")
	fs.String(flagConfig, "", "config file (default $XDG_CONFIG_HOME/kmsctl/config.yaml)")
	fs.StringP(flagOutput, "o", outputTable, "output format: table or json")
	fs.Bool(flagNoColor, false, "no colours (also: NO_COLOR, TERM=dumb)")
	fs.Int(flagParallel, 10, "nodes contacted at the same time")
	fs.Duration(flagTimeout, 30*time.Second, "upper bound for reaching and querying one node")
	fs.Duration(flagConnectTimeout, 0, "upper bound for the TCP connect and SSH handshake of each hop (default: ssh_config ConnectTimeout, else --timeout)")
	fs.StringP(flagSSHConfig, "F", "", "OpenSSH client config file (default ~/.ssh/config; \"none\" reads none)")
	fs.Bool(flagAcceptNewHostKeys, false, "trust unknown SSH host keys and add them to known_hosts (a changed key is always refused; command line only)")
	fs.String(flagSudoPasswordFile, "", "file holding the sudo password, when sudo asks for one")
	fs.String(flagAPIKeyFile, "", "file holding the key manager API key (default: $MINIO_KMS_API_KEY)")
	fs.BoolP(flagVerbose, "v", false, "debug messages on stderr: SSH authentication and every remote command")
	fs.Bool(flagWide, false, "tables show every column, however wide the terminal")
}

// loadGlobals fills f.Global from flags, environment and the config file,
// in that order of precedence. Commands marked annotNoConfig read flags only.
func loadGlobals(v *viper.Viper, f *Factory, c *cobra.Command) error {
	useSettings := needsConfig(c)
	if useSettings {
		if err := refuseWeakeningEnv(f.Getenv); err != nil {
			return err
		}
		if err := mergeConfigFile(v, f); err != nil {
			return err
		}
	}
	get := globalsFromViper(v)
	if !useSettings {
		get = globalsFromFlags(c.Flags())
	}
	g := get()
	if err := g.validate(); err != nil {
		return usageError(err)
	}
	f.Global = g
	if g.NoColor {
		f.IO.NoColor = true
	}
	f.IO.Wide = g.Wide
	return nil
}

// globalsFromViper reads the merged settings.
func globalsFromViper(v *viper.Viper) func() GlobalOptions {
	return func() GlobalOptions {
		return GlobalOptions{
			Inventory:         v.GetString(flagInventory),
			Output:            v.GetString(flagOutput),
			NoColor:           v.GetBool(flagNoColor),
			Parallel:          v.GetInt(flagParallel),
			Timeout:           v.GetDuration(flagTimeout),
			ConnectTimeout:    v.GetDuration(flagConnectTimeout),
			SSHConfig:         v.GetString(flagSSHConfig),
			AcceptNewHostKeys: v.GetBool(flagAcceptNewHostKeys),
			SudoPasswordFile:  v.GetString(flagSudoPasswordFile),
			APIKeyFile:        v.GetString(flagAPIKeyFile),
			Verbose:           v.GetBool(flagVerbose),
			Wide:              v.GetBool(flagWide),
		}
	}
}

// globalsFromFlags reads the command line only.
func globalsFromFlags(fs *pflag.FlagSet) func() GlobalOptions {
	v := viper.New()
	_ = v.BindPFlags(fs)
	return globalsFromViper(v)
}

func (g GlobalOptions) validate() error {
	for _, c := range globalChecks {
		if err := c.check(g); err != nil {
			return err
		}
	}
	return nil
}

// globalChecks validate the value of one setting each, wherever it came
// from (flag, environment or config file).
var globalChecks = []struct {
	name  string
	check func(GlobalOptions) error
}{
	{flagOutput, func(g GlobalOptions) error {
		if g.Output != outputTable && g.Output != outputJSON {
			return fmt.Errorf("--output %q: must be table or json", g.Output)
		}
		return nil
	}},
	{flagParallel, func(g GlobalOptions) error {
		if g.Parallel < 1 {
			return fmt.Errorf("--parallel %d: must be at least 1", g.Parallel)
		}
		return nil
	}},
	{flagTimeout, func(g GlobalOptions) error {
		if g.Timeout <= 0 {
			return fmt.Errorf("--timeout %s: must be positive", g.Timeout)
		}
		return nil
	}},
	{flagConnectTimeout, func(g GlobalOptions) error {
		if g.ConnectTimeout < 0 {
			return fmt.Errorf("--connect-timeout %s: must not be negative", g.ConnectTimeout)
		}
		return nil
	}},
}

// Main runs kmsctl with args and returns the process exit status. Errors are
// printed once, here, on stderr.
func Main(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && isCobraUsage(err) {
		err = usageError(err)
	}
	var ee *ExitError
	if err != nil && (!errors.As(err, &ee) || ee.Err != nil) {
		fmt.Fprintln(f.IO.ErrOut, "kmsctl: "+err.Error())
	}
	return ExitCode(err)
}

// isCobraUsage recognises cobra's own argument errors, which are plain
// errors without a type to match.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
