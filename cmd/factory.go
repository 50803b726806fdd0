package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/remote"
)

// Factory hands every command its dependencies. Commands never reach for
// os.Stdout, the network, the clock, the environment (Getenv), the host
// name or the PID (Hostname, Getpid) themselves, so tests swap any of
// these for fakes without global state. The hsm commands that change nodes
// take theirs through runDeps (rundeps.go).
type Factory struct {
	// IO are the standard streams.
	IO *IOStreams
	// LoadInventory reads and checks an inventory file.
	LoadInventory func(path string) (*inventory.Inventory, error)
	// Dialer builds the SSH dialer for this run's settings.
	Dialer func(opts DialerOptions) (remote.Dialer, error)
	// NodeAPI builds a key manager API client that dials through dial.
	NodeAPI func(dial kmsapi.DialFunc, apiURL string, opts kmsapi.Options) (NodeAPI, error)
	// VaultClient builds a Vault API client.
	VaultClient func(cfg *vaultapi.Config) (*vaultapi.Client, error)
	// Now is the clock.
	Now func() time.Time
	// After and Tick are the clock's waits: the health gate's polls, its
	// deadline and the settle period (After), the lock refresh (Tick; nil:
	// a real ticker).
	After func(time.Duration) <-chan time.Time
	Tick  func(time.Duration) (<-chan time.Time, func())
	// Hostname and Getpid name this process in the nodes' lock files.
	Hostname func() (string, error)
	Getpid   func() int
	// Getenv reads the environment (MINIO_KMS_API_KEY and friends).
	Getenv func(string) string
	// Global holds the global flags, filled by the root command before any
	// command runs.
	Global GlobalOptions
}

// GlobalOptions are the flags every command shares.
type GlobalOptions struct {
	Inventory         string
	Output            string
	NoColor           bool
	Parallel          int
	Timeout           time.Duration
	ConnectTimeout    time.Duration
	SSHConfig         string
	AcceptNewHostKeys bool
	SudoPasswordFile  string
	APIKeyFile        string
	Verbose           bool
	Wide              bool
}

// DialerOptions are the run-wide SSH settings that are not per node.
type DialerOptions struct {
	// AcceptNewHostKeys trusts unknown host keys and records them in
	// known_hosts; a changed key is refused regardless.
	AcceptNewHostKeys bool
	// Timeout bounds reaching and querying one node; it also bounds the SSH
	// connect when neither ConnectTimeout nor ssh_config sets that.
	Timeout time.Duration
	// ConnectTimeout is --connect-timeout (0: ssh_config's, else Timeout).
	ConnectTimeout time.Duration
	// SSHConfig is --ssh-config/-F ("" = ~/.ssh/config and the system file).
	SSHConfig string
	// Debug receives the -v SSH trace; nil without -v.
	Debug io.Writer
	// SudoPasswordFiles maps a node name to the file holding its sudo
	// password ("" means: ask on the terminal).
	SudoPasswordFiles map[string]string
	// SudoPassword reads the password of one source (file or ""), once; it
	// is called only when sudo asks, and sent over stdin only.
	SudoPassword func(file string) ([]byte, error)
	// Prompt asks on the terminal (key passphrases); nil without a terminal.
	Prompt func(label string) ([]byte, error)
	// Warnings receives non-fatal notices (stderr).
	Warnings io.Writer
}

// NodeAPI is the part of the key manager API kmsctl uses; an interface so
// tests can fake a node's API. *kmsapi.Client implements it.
type NodeAPI interface {
	Version(ctx context.Context) (string, error)
	Live(ctx context.Context) error
	Ready(ctx context.Context) error
	ClusterStatus(ctx context.Context) (*kmsapi.ClusterStatus, error)
	Close()
}

// NewFactory returns the production dependencies.
func NewFactory() *Factory {
	return &Factory{
		IO:            SystemIO(),
		LoadInventory: inventory.Load,
		Dialer:        newSSHDialer,
		NodeAPI: func(dial kmsapi.DialFunc, apiURL string, opts kmsapi.Options) (NodeAPI, error) {
			return kmsapi.New(dial, apiURL, opts)
		},
		VaultClient: vaultapi.NewClient,
		Now:         time.Now,
		After:       time.After,
		Hostname:    os.Hostname,
		Getpid:      os.Getpid,
		Getenv:      os.Getenv,
	}
}

// Inventory loads the inventory named by -i; a missing flag or an invalid
// file is a usage error (ExitUsage), the same in every command.
func (f *Factory) Inventory() (*inventory.Inventory, error) {
	if f.Global.Inventory == "" {
		return nil, usageError(errors.New("no inventory: pass -i FILE or set KMSCTL_INVENTORY (see `kmsctl inventory init`)"))
	}
	inv, err := f.LoadInventory(f.Global.Inventory)
	if err != nil {
		return nil, inventoryError(f.Global.Inventory, err)
	}
	inv.SetHostResolver(func(n inventory.Node) string { return remote.HostName(targetFor(n), f.Global.SSHConfig) })
	return inv, nil
}

// APIKey returns the key manager API key from --api-key-file, else
// MINIO_KMS_API_KEY (as the minkms CLI reads it); "" when neither is set.
func (f *Factory) APIKey() (string, error) {
	if f.Global.APIKeyFile != "" {
		b, err := inventory.Secret{Name: "API key", File: f.Global.APIKeyFile}.Read(f.secretOptions())
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	return f.Getenv("MINIO_KMS_API_KEY"), nil
}

// secretOptions wire inventory.Secret to this process's surroundings.
func (f *Factory) secretOptions() inventory.SecretOptions {
	return inventory.SecretOptions{
		Getenv: f.Getenv,
		Prompt: f.IO.Prompt(),
		Warn:   func(msg string) { fmt.Fprintln(f.IO.ErrOut, "warning: "+msg) },
	}
}

// Logf writes a progress message to stderr.
func (f *Factory) Logf(format string, args ...any) {
	fmt.Fprintf(f.IO.ErrOut, format+"\n", args...)
}

// Debugf writes a message to stderr with --verbose only.
func (f *Factory) Debugf(format string, args ...any) {
	if f.Global.Verbose {
		f.Logf("debug: "+format, args...)
	}
}
