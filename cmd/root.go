// Package cmd is the kmsctl command line: one file per command, each with an
// Options struct, a newCmd constructor that only fills the options, and a run
// function that does the work. Dependencies come from a Factory so that every
// command can be tested without SSH, a key manager or a terminal.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Global flag names, also the keys of kmsctl.yaml and (upper-cased, with
// "-" as "_", prefixed KMSCTL_) of the environment.
const (
	flagInventory         = "inventory"
	flagOutput            = "output"
	flagNoColor           = "no-color"
	flagParallel          = "parallel"
	flagTimeout           = "timeout"
	flagAcceptNewHostKeys = "accept-new-host-keys"
	flagSudoPasswordFile  = "sudo-password-file"
	flagAPIKeyFile        = "api-key-file"
	flagVerbose           = "verbose"
)

// Output formats of -o.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// NewRootCmd builds the whole command tree around f.
func NewRootCmd(f *Factory) *cobra.Command {
	v := viper.New()
	root := &cobra.Command{
		Use:   "kmsctl",
		Short: "Operate and migrate AIStor Key Manager (minkms) clusters over SSH",
		Long: `kmsctl inspects a running AIStor Key Manager (minkms) cluster over SSH and
systemd, and migrates it from its local HSM key to a HashiCorp Vault transit key.

Global flags can also be set in kmsctl.yaml (./kmsctl.yaml, then
$XDG_CONFIG_HOME/kmsctl/kmsctl.yaml) or as KMSCTL_<FLAG> environment variables
(e.g. KMSCTL_INVENTORY, KMSCTL_ACCEPT_NEW_HOST_KEYS); flags win over the
environment, which wins over the file.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			return loadGlobals(v, f)
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
	return root
}

func addGlobalFlags(fs *pflag.FlagSet) {
	fs.StringP(flagInventory, "i", "", "inventory file (create one with: kmsctl inventory init)")
	fs.StringP(flagOutput, "o", outputTable, "output format: table or json")
	fs.Bool(flagNoColor, false, "no colours (also: NO_COLOR)")
	fs.Int(flagParallel, 10, "nodes contacted at the same time")
	fs.Duration(flagTimeout, 30*time.Second, "upper bound for reaching and querying one node")
	fs.Bool(flagAcceptNewHostKeys, false, "trust unknown SSH host keys and add them to known_hosts (a changed key is always refused)")
	fs.String(flagSudoPasswordFile, "", "file holding the sudo password, when sudo asks for one")
	fs.String(flagAPIKeyFile, "", "file holding the key manager API key (default: $MINIO_KMS_API_KEY)")
	fs.BoolP(flagVerbose, "v", false, "debug messages on stderr")
}

// loadGlobals reads the optional config file and fills f.Global from flags,
// environment and file, in that order of precedence.
func loadGlobals(v *viper.Viper, f *Factory) error {
	for _, p := range f.ConfigFiles {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		v.SetConfigFile(p)
		if err := v.ReadInConfig(); err != nil {
			return usageError(fmt.Errorf("config file %s: %w", p, err))
		}
		break
	}
	g := GlobalOptions{
		Inventory:         v.GetString(flagInventory),
		Output:            v.GetString(flagOutput),
		NoColor:           v.GetBool(flagNoColor),
		Parallel:          v.GetInt(flagParallel),
		Timeout:           v.GetDuration(flagTimeout),
		AcceptNewHostKeys: v.GetBool(flagAcceptNewHostKeys),
		SudoPasswordFile:  v.GetString(flagSudoPasswordFile),
		APIKeyFile:        v.GetString(flagAPIKeyFile),
		Verbose:           v.GetBool(flagVerbose),
	}
	if err := g.validate(); err != nil {
		return usageError(err)
	}
	f.Global = g
	if g.NoColor {
		f.IO.NoColor = true
	}
	return nil
}

func (g GlobalOptions) validate() error {
	switch {
	case g.Output != outputTable && g.Output != outputJSON:
		return fmt.Errorf("--output %q: must be table or json", g.Output)
	case g.Parallel < 1:
		return fmt.Errorf("--parallel %d: must be at least 1", g.Parallel)
	case g.Timeout <= 0:
		return fmt.Errorf("--timeout %s: must be positive", g.Timeout)
	}
	return nil
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
