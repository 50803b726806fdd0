package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/migrate/configedit"
	"github.com/kmsctl/kmsctl/migrate/vaultcheck"
	"github.com/kmsctl/kmsctl/render"
)

// RotatePlanSchema versions the JSON document of `hsm rotate --dry-run -o json`.
const RotatePlanSchema = "kmsctl.rotate-plan/v1"

// HSMRotateOptions are the inputs of `kmsctl hsm rotate`.
type HSMRotateOptions struct {
	nodeDeps
	Output         string
	DryRun         bool
	Yes            bool
	Rotate         bool
	Retire         bool
	ForceUnlock    bool
	SkipVaultCheck bool
	// The rotation identity: a token file (else VAULT_TOKEN), or an
	// approle (role id, secret id file or variable, mount).
	TokenFile       string
	AdminRoleID     string
	AdminSecretFile string
	AdminSecretEnv  string
	AdminAuthPath   string
	Gate            migrate.GateOptions
	runDeps
	Getenv  func(string) string
	Confirm func(question string) (bool, error)
}

func newCmdHSMRotate(f *Factory, runF func(context.Context, *HSMRotateOptions) error) *cobra.Command {
	opts := &HSMRotateOptions{Gate: migrate.DefaultGate}
	c := &cobra.Command{
		Use:   "rotate -i FILE",
		Short: "Re-seal every node's root key with the Vault transit key's latest version, and retire the older ones",
		Long: `Re-seal the cluster's root key with the newest version of the Vault transit
key, optionally rotating the key first and retiring the older versions:

  preflight  every node healthy and on the external HSM with a sealed entry,
             the Vault checks of 'kmsctl vault check', the rotation identity's
             permissions, the key's versions
  rotate     only with --rotate: vault write -f <transit>/keys/<key>/rotate
  reseal     AddHSM with Overwrite for the external HSM (a cluster-wide write):
             every node re-seals its root key with the latest version
  retire     only with --retire-old-versions: min_decryption_version is set to
             that version, then one node at a time (followers first, leader
             last) is restarted and gated: each restart proves the node unseals
             without the old versions. A node that cannot reach Vault is not
             restarted; any failure puts min_decryption_version back first,
             then restores the node, and stops the run.

The external HSM is told apart by difference (what the Vault or OpenBao
block added), never by its name. The key manager does not report which key
version sealed an entry: the retire step's restarts are the proof.

The rotation identity is NOT the nodes' Vault identity (their policy grants
update on encrypt, decrypt and hmac only, and stays so). It needs read on
<transit>/keys/<key>, update on .../rotate with --rotate and update on
.../config with --retire-old-versions; all are checked before any change.
Give it as the operator's token (--vault-token-file, else VAULT_TOKEN) or
as an approle (--admin-role-id with --admin-secret-id-file or
--admin-secret-id-env), e.g. for a scheduled CI job.

Exit status: 0 done, 2 usage, 4 preflight failed (nothing changed), 5 halted
(the failing node is as it was or restored, min_decryption_version put
back), 6 interrupted (min_decryption_version put back), 7 operator action
needed (the node could not be restored, or min_decryption_version could not
be put back: the message gives the command). See docs/exit-codes.md.`,
		Example: `  kmsctl hsm rotate -i kms.yaml --rotate --retire-old-versions --dry-run
  VAULT_TOKEN=... kmsctl hsm rotate -i kms.yaml --rotate --retire-old-versions
  kmsctl hsm rotate -i kms.yaml --admin-role-id $ROLE --admin-secret-id-env ROTATE_SECRET_ID \
    --rotate --retire-old-versions --yes -o json > rotate.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.nodeDeps = f.nodeDeps()
			opts.Output, opts.runDeps, opts.Getenv = f.Global.Output, f.runDeps(), f.Getenv
			opts.Confirm = f.IO.Confirm()
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runHSMRotate(c.Context(), opts)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&opts.DryRun, "dry-run", false, "show what would happen and change nothing (Vault and nodes)")
	fl.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation (CI)")
	fl.BoolVar(&opts.Rotate, "rotate", false, "rotate the transit key first (otherwise the latest version, rotated by you, is used)")
	fl.BoolVar(&opts.Retire, "retire-old-versions", false, "after the re-seal, set min_decryption_version to the latest version and prove every node still unseals")
	fl.BoolVar(&opts.ForceUnlock, "force-unlock", false, "clear a stale lock left by a run that died")
	fl.BoolVar(&opts.SkipVaultCheck, "skip-vault-check", false, "skip the nodes' Vault checks of the preflight (the rotation identity's permissions are always checked)")
	fl.StringVar(&opts.TokenFile, "vault-token-file", "", "file holding the rotation identity's Vault token (default: VAULT_TOKEN)")
	fl.StringVar(&opts.AdminRoleID, "admin-role-id", "", "approle role id of the rotation identity (instead of a token)")
	fl.StringVar(&opts.AdminSecretFile, "admin-secret-id-file", "", "file holding the rotation approle's secret id")
	fl.StringVar(&opts.AdminSecretEnv, "admin-secret-id-env", "", "environment variable holding the rotation approle's secret id")
	fl.StringVar(&opts.AdminAuthPath, "admin-auth-path", configedit.DefaultAppRolePath, "mount of the rotation approle")
	gateFlags(fl, &opts.Gate)
	return c
}

func (o *HSMRotateOptions) validate() error {
	switch {
	case o.AdminRoleID != "" && o.TokenFile != "":
		return usageError(errors.New("--vault-token-file and --admin-role-id are two ways to give the rotation identity: give one"))
	case o.AdminRoleID == "" && (o.AdminSecretFile != "" || o.AdminSecretEnv != ""):
		return usageError(errors.New("--admin-secret-id-file/--admin-secret-id-env go with --admin-role-id"))
	case o.AdminSecretFile != "" && o.AdminSecretEnv != "":
		return usageError(errors.New("--admin-secret-id-file and --admin-secret-id-env: give one"))
	}
	return validateGate(o.Gate)
}

func runHSMRotate(ctx context.Context, o *HSMRotateOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	if !o.DryRun && !o.Yes && o.Confirm == nil { // refuse before connecting to any node
		return errNoTerminal(" (after reviewing --dry-run)")
	}
	login, err := o.adminLogin()
	if err != nil {
		return err
	}
	sess, vault, err := openVaultSession(ctx, o.nodeDeps)
	if err != nil {
		return err
	}
	defer sess.Close()
	cfg, err := vaultCheckConfig(ctx, sess, vault, o.Secrets)
	if err != nil {
		return &ExitError{Code: ExitPreflightFailed, Err: err}
	}
	admin, err := vaultcheck.NewKeyAdmin(ctx, cfg, login, vaultcheck.Options{Parallel: o.Parallel})
	if err != nil {
		return &ExitError{Code: ExitPreflightFailed, Err: fmt.Errorf("rotation identity: %w", err)}
	}
	spec := migrate.RotateSpec{Key: transitKey{admin}, KeyPath: admin.Path(""), Rotate: o.Rotate, Retire: o.Retire,
		NodeVault: func(ctx context.Context, t *migrate.Target) error { return admin.NodeReaches(ctx, t.Node) }}
	mopts := migrate.Options{HasAPIKey: sess.apiKey != "", Gate: o.Gate, ForceUnlock: o.ForceUnlock, Parallel: o.Parallel,
		Preflight: func(ctx context.Context) ([]string, error) { return o.preflight(ctx, sess, vault, admin) }}
	o.clock(&mopts)
	if o.DryRun {
		return o.showPlan(ctx, sess, mopts, spec)
	}
	if err := o.confirm(ctx, sess, mopts, spec); err != nil {
		return err
	}
	run := newRunID(o.Now())
	sink, closeLog := newEventSink(o.IO, o.Output, o.StateDir, run)
	defer closeLog()
	mopts.Run, mopts.Events = run, sink
	mopts.Lock, mopts.LockOwnerDead = o.Lock()
	_, err = migrate.Rotate(ctx, sess.targets, mopts, spec)
	return rolloutExit(err, run)
}

// preflight is the Vault side of the preflight: the nodes' identity as
// `vault check` tests it, then the rotation identity's permissions.
func (o *HSMRotateOptions) preflight(ctx context.Context, sess *hsmSession, vault configedit.VaultSettings, admin *vaultcheck.KeyAdmin) ([]string, error) {
	var warnings []string
	if !o.SkipVaultCheck {
		w, err := vaultPreflight(ctx, sess, vault, o.Secrets, o.Parallel)
		if err != nil {
			return w, err
		}
		warnings = w
	}
	return warnings, admin.CheckPermissions(ctx, o.Rotate, o.Retire)
}

// adminLogin reads the rotation identity's credential: a token file, the
// VAULT_TOKEN variable, or an approle secret id (file or variable).
func (o *HSMRotateOptions) adminLogin() (vaultcheck.AdminLogin, error) {
	if o.AdminRoleID != "" {
		s := inventory.Secret{Name: "rotation approle secret id", File: o.AdminSecretFile, Env: o.AdminSecretEnv}
		secret, err := s.Read(o.Secrets)
		if err != nil {
			return vaultcheck.AdminLogin{}, usageError(err)
		}
		return vaultcheck.AdminLogin{AppRole: &configedit.AppRole{ID: o.AdminRoleID, Secret: strings.TrimSpace(string(secret)), Path: o.AdminAuthPath}}, nil
	}
	s := inventory.Secret{Name: "rotation identity's Vault token", File: o.TokenFile}
	if o.TokenFile == "" {
		s.Env = "VAULT_TOKEN"
	}
	tok, err := s.Read(inventory.SecretOptions{Getenv: o.Getenv, Warn: o.Secrets.Warn})
	if err != nil {
		return vaultcheck.AdminLogin{}, usageError(err)
	}
	return vaultcheck.AdminLogin{Token: strings.TrimSpace(string(tok))}, nil
}

// showPlan is the dry run: every check of the run, no lock, no change.
func (o *HSMRotateOptions) showPlan(ctx context.Context, sess *hsmSession, mopts migrate.Options, spec migrate.RotateSpec) error {
	p, err := migrate.PlanRotation(ctx, sess.targets, mopts, spec)
	if err != nil {
		return &ExitError{Code: ExitPreflightFailed, Err: err}
	}
	if o.Output == outputJSON {
		return writeJSON(o.IO.Out, struct {
			Schema string `json:"schema"`
			*migrate.RotatePlan
			Steps []string `json:"steps"`
		}{RotatePlanSchema, p, p.Steps()})
	}
	writeRotatePlan(o.IO.Out, o.IO.RenderOptions(), p)
	return nil
}

func writeRotatePlan(w io.Writer, ro render.Options, p *migrate.RotatePlan) {
	pt := render.NewPainter(w, ro)
	fmt.Fprintf(w, "%s %s (external HSM %s): latest version %d, min_decryption_version %d\n",
		pt.Paint(render.Strong, "Rotation of"), p.Key, p.HSM, p.Versions.Latest, p.Versions.MinDecryption)
	for i, s := range p.Steps() {
		fmt.Fprintf(w, "  %d. %s\n", i+1, s)
	}
}

// confirm shows the plan and asks, unless --yes.
func (o *HSMRotateOptions) confirm(ctx context.Context, sess *hsmSession, mopts migrate.Options, spec migrate.RotateSpec) error {
	return confirmChange(o.Yes, o.Confirm, " (after reviewing --dry-run)", "Re-seal the cluster as shown?", func() error {
		p, err := migrate.PlanRotation(ctx, sess.targets, mopts, spec)
		if err == nil {
			writeRotatePlan(o.IO.ErrOut, o.IO.ErrRenderOptions(), p)
		}
		return err
	})
}

// transitKey adapts vaultcheck.KeyAdmin to migrate.TransitKey.
type transitKey struct{ k *vaultcheck.KeyAdmin }

func (t transitKey) Versions(ctx context.Context) (migrate.KeyVersions, error) {
	latest, minDec, err := t.k.Versions(ctx)
	return migrate.KeyVersions{Latest: latest, MinDecryption: minDec}, err
}

func (t transitKey) Rotate(ctx context.Context) error { return t.k.Rotate(ctx) }

func (t transitKey) SetMinDecryptionVersion(ctx context.Context, v int) error {
	return t.k.SetMinDecryptionVersion(ctx, v)
}
