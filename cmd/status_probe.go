package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/migrate/systemd"
	"github.com/kmsctl/kmsctl/remote"
)

// probe is one node's status check. Every part runs at once over the
// node's single SSH connection, so a node costs one round trip of latency.
type probe struct {
	node   inventory.Node
	conn   remote.Node
	newAPI func(dial kmsapi.DialFunc, apiURL string, opts kmsapi.Options) (NodeAPI, error)
	apiKey string
	rep    NodeReport
	// cluster is this node's ClusterStatus (with an API key).
	cluster *kmsapi.ClusterStatus
	// host is the --host of the node's daemon options, for the matcher.
	host string
	// hsmRecord is the HSM names a kmsctl run recorded on the node, read
	// only when its files alone cannot tell its HSMs apart.
	hsmRecord *migrate.HSMNames
	// local is what LocalHSMReport needs beyond the other probes.
	local localProbe
}

// run fills p.rep; it never fails: every problem becomes part of the report.
func (p *probe) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, step := range []func(context.Context){p.sudo, p.unit, p.files, p.api} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			step(ctx)
		}()
	}
	wg.Wait()
	p.localHSM(ctx) // needs the unit's MainPID
}

func (p *probe) sudo(ctx context.Context) {
	switch {
	case loginUser(p.conn, p.node.SSH.User) == "root":
		p.rep.Sudo = &SudoReport{Mode: sudoRoot}
		return
	case !p.node.SSH.Sudo:
		p.rep.Sudo = &SudoReport{Mode: sudoOff}
		return
	}
	res, err := p.conn.Run(ctx, remote.Command{Args: []string{"true"}, Sudo: true})
	switch {
	case err != nil:
		p.rep.Sudo = &SudoReport{Mode: sudoFail, Error: p.msg(err)}
	case res.ExitCode != 0:
		p.rep.Sudo = &SudoReport{Mode: sudoFail, Error: fmt.Sprintf("exit %d: %s", res.ExitCode, res.StderrLine())}
	default:
		p.rep.Sudo = &SudoReport{Mode: sudoOK}
	}
}

func (p *probe) unit(ctx context.Context) {
	u := &UnitReport{Name: p.node.Unit}
	p.rep.Unit = u
	st, err := systemd.ReadUnit(ctx, p.conn, p.node.Unit)
	if err != nil {
		u.Error = p.msg(err)
		return
	}
	u.ActiveState, u.SubState, u.Restarts, u.MainPID = st.ActiveState, st.SubState, st.NRestarts, st.MainPID
	if !st.Since.IsZero() {
		since := st.Since.UTC()
		u.Since = &since
	}
}

func (p *probe) files(ctx context.Context) {
	fr := &FilesReport{VaultBlocks: []string{}}
	p.rep.Files = fr
	// Each read is its own SSH session: read both at once.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.envFile(ctx, fr) }()
	go func() { defer wg.Done(); p.configFile(ctx, fr) }()
	wg.Wait()
	if len(fr.VaultBlocks) > 0 {
		p.hsmRecord = migrate.LatestHSMRecord(ctx, p.conn, p.node.BackupDir)
	}
}

// envFile fills the env-file half of fr.
func (p *probe) envFile(ctx context.Context, fr *FilesReport) {
	env, _, err := p.conn.ReadFile(ctx, p.node.EnvFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fr.EnvMissing = true
	case err != nil:
		fr.EnvError = p.msg(err)
	default:
		if fr.LocalKey, err = envHasKey(env); err != nil {
			fr.EnvError = p.msg(err)
		}
		p.host = migrate.DaemonHost(env)
	}
}

// configFile fills the config half of fr.
func (p *probe) configFile(ctx context.Context, fr *FilesReport) {
	cfg, _, err := p.conn.ReadFile(ctx, p.node.Config)
	if err != nil {
		fr.ConfigError = p.msg(err)
		return
	}
	blocks, err := vaultBlocks(cfg)
	if err != nil {
		fr.ConfigError = fmt.Sprintf("%s: %v", p.node.Config, err)
		return
	}
	fr.VaultBlocks = append(fr.VaultBlocks, blocks...)
}

func (p *probe) api(ctx context.Context) {
	a := &APIReport{URL: p.node.API}
	p.rep.API = a
	client, err := p.client()
	if err != nil {
		a.Error = p.msg(err)
		return
	}
	defer client.Close()
	var verr, lerr, rerr error
	a.Version, verr = client.Version(ctx)
	lerr = client.Live(ctx)
	rerr = client.Ready(ctx)
	a.Live, a.Ready = lerr == nil, rerr == nil
	for _, e := range []error{lerr, rerr, verr} {
		if e != nil {
			a.Error = e.Error()
			break
		}
	}
	if p.apiKey == "" {
		return
	}
	if p.cluster, err = client.ClusterStatus(ctx); err != nil {
		a.ClusterError = p.msg(err)
	}
}

// client builds the API client that dials through the node's SSH connection.
func (p *probe) client() (NodeAPI, error) {
	return apiClientFor(p.newAPI, p.conn, p.node, p.apiKey)
}
