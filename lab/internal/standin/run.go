package standin

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"aead.dev/mtls"
)

// Options are the process inputs of the stand-in; tests inject their own so
// several nodes can run in one test process.
type Options struct {
	Args    []string            // command line after the program name
	Getenv  func(string) string // environment (MINIO_KMS_HSM_KEY, MINKMS_LAB_SETTINGS)
	Stderr  io.Writer           // log destination (the journal)
	Signals <-chan os.Signal    // SIGTERM / SIGINT
}

// serverArgs is the parsed `minkms server VOLUME --host HOST:PORT --config FILE`.
type serverArgs struct {
	volume, host, config, settings string
}

// Exit codes: 1 for a failed start, 2 for the crash-after fault.
const (
	exitFailed = 1
	exitCrash  = 2
)

// Run is the stand-in's main: it starts the node and serves until stopped,
// returning the process exit code.
func Run(ctx context.Context, o Options) int {
	started := time.Now()
	logger := log.New(o.Stderr, "minkms: ", 0)
	logf := logger.Printf
	a, err := parseArgs(o.Args, o.Getenv)
	if err != nil {
		logf("%v", err)
		return exitFailed
	}
	n, faults, err := start(ctx, a, o.Getenv, logf)
	if err != nil {
		logf("%v", err)
		return exitFailed
	}
	return n.serve(ctx, started, faults, o.Signals, logger)
}

func parseArgs(args []string, getenv func(string) string) (serverArgs, error) {
	const usage = "usage: minkms server VOLUME --host HOST:PORT --config FILE"
	if len(args) == 0 || args[0] != "server" {
		return serverArgs{}, errors.New(usage)
	}
	var a serverArgs
	fs := flag.NewFlagSet("minkms server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.host, "host", "", "address to serve on")
	fs.StringVar(&a.config, "config", "", "config file")
	fs.StringVar(&a.settings, "lab-settings", "", "lab settings file")
	var positional []string
	for rest := args[1:]; len(rest) > 0; {
		if err := fs.Parse(rest); err != nil {
			return a, fmt.Errorf("%v; %s", err, usage)
		}
		if rest = fs.Args(); len(rest) > 0 {
			positional, rest = append(positional, rest[0]), rest[1:]
		}
	}
	if len(positional) != 1 || a.host == "" || a.config == "" {
		return a, errors.New(usage)
	}
	a.volume = positional[0]
	if a.settings == "" {
		a.settings = getenv(SettingsEnv)
	}
	if a.settings == "" {
		a.settings = DefaultSettingsPath
	}
	return a, nil
}

// node is a started, unsealed stand-in.
type node struct {
	args     serverArgs
	settings *Settings
	config   *Config
	admin    mtls.Identity
	cluster  *Cluster
	writer   *writer
}

// adminIdentity is the config's admin.identity or, without one, the identity
// of the root API key derived from the node's first working HSM, which is
// printed as the product's banner prints its root credentials. This is the
// lab's model: the product's derivation is UNCONFIRMED.
func adminIdentity(ctx context.Context, cfg *Config, first HSM, logf func(string, ...any)) (mtls.Identity, error) {
	if cfg.AdminIdentity != "" {
		return mtls.ParseIdentity(cfg.AdminIdentity) // validated by ParseConfig
	}
	seed, err := first.RootKeySeed(ctx)
	if err != nil {
		return mtls.Identity{}, fmt.Errorf("derive root API key from %s: %w", first.Name(), err)
	}
	key, err := RootAPIKey(seed)
	if err != nil {
		return mtls.Identity{}, err
	}
	logf("no admin.identity in the config: root API key derived from HSM %s", first.Name())
	logf("API Key %s", key.String())
	return key.Identity(), nil
}

// start reads settings, faults and config, unseals the REK and prepares the
// cluster. Any error fails the start.
func start(ctx context.Context, a serverArgs, getenv func(string) string, logf func(string, ...any)) (*node, Faults, error) {
	s, faults, cfg, err := readInputs(a)
	if err != nil {
		return nil, faults, err
	}
	hsms, configured, u, err := unsealVolume(ctx, a.volume, cfg, s, getenv, logf)
	if err != nil {
		return nil, faults, fmt.Errorf("cannot unseal: %w", err)
	}
	n, err := assemble(ctx, a, s, cfg, hsms, configured, u, logf)
	return n, faults, err
}

// readInputs reads lab.yaml, the fault knobs and the config; the fail-start
// knob fails here.
func readInputs(a serverArgs) (*Settings, Faults, *Config, error) {
	s, err := LoadSettings(a.settings)
	if err != nil {
		return nil, Faults{}, nil, err
	}
	faults, err := ReadFaults(s.FaultsDir)
	if err != nil {
		return nil, faults, nil, err
	}
	cfg, err := LoadConfig(a.config, s.VaultBlock)
	if faults.FailStart && (!faults.FailWithVault || (err == nil && cfg.Vault != nil)) {
		return nil, faults, nil, fmt.Errorf("fault knob %s/fail-start is set: failing the start", s.FaultsDir)
	}
	return s, faults, cfg, err
}

// unsealVolume opens the HSMs under the node's unseal policy, unseals (or
// creates) the REK and logs the banner lines.
func unsealVolume(ctx context.Context, volume string, cfg *Config, s *Settings, getenv func(string) string, logf func(string, ...any)) ([]HSM, []string, *Unsealed, error) {
	hsms, configured, err := openHSMs(ctx, cfg, getenv, s, logf)
	if err != nil {
		return nil, nil, nil, err
	}
	policy := SealPolicy{Tolerant: s.Unseal == UnsealAny, RecreateRemoved: s.RestartRecreatesRemoved}
	u, err := UnsealWith(ctx, volume, hsms, policy, logf)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := bindDerivedKeys(ctx, volume, hsms, u); err != nil {
		return nil, nil, nil, err
	}
	by := u.By
	if by == "" {
		by = hsms[0].Name()
	}
	logf("unsealed with %s", ReportName(s.HSMNames, by))
	for _, h := range hsms {
		logf("HSM  %s", ReportName(s.HSMNames, h.Name())) // as the product's start-up banner
	}
	return hsms, configured, u, nil
}

// assemble builds the unsealed node: admin identity, key database, peer
// trust and cluster state.
func assemble(ctx context.Context, a serverArgs, s *Settings, cfg *Config, hsms []HSM, configured []string, u *Unsealed, logf func(string, ...any)) (*node, error) {
	keys, err := interNodeKeys(ctx, hsms)
	if err != nil {
		return nil, err
	}
	admin, err := adminIdentity(ctx, cfg, hsms[0], logf)
	if err != nil {
		return nil, err
	}
	client, err := peerClient(cfg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(a.volume, s.HSMNames, u, hsms, configured)
	if err != nil {
		return nil, err
	}
	local := NodeStatus{Version: s.Version, Host: a.host,
		HSM: ReportNames(s.HSMNames, u.Sealed.Names()), HSMActive: ReportNames(s.HSMNames, configured)}
	cluster := newCluster(s.NodeID, s.Peers, &peerAuth{rule: s.InternodeRule, keys: keys}, client, local, logf)
	st.onSealed = cluster.setSealed
	return &node{args: a, settings: s, config: cfg, admin: admin, cluster: cluster,
		writer: &writer{cluster: cluster, store: st, logf: logf}}, nil
}

// openHSMs builds the configured HSMs, local (the primary) first, and checks
// each with the HMAC that derives its inter-node key. It returns the HSMs
// that work and the ids of all configured ones. Under unseal: all any
// failure fails the start; under unseal: any a failing HSM is logged (with
// Vault's error) and left out, and the start fails only when none works.
func openHSMs(ctx context.Context, cfg *Config, getenv func(string) string, s *Settings, logf func(string, ...any)) ([]HSM, []string, error) {
	var hsms []HSM
	var configured []string
	if v := getenv(LocalKeyEnv); v != "" {
		h, err := ParseLocalKey(v)
		if err != nil {
			return nil, nil, err
		}
		hsms, configured = append(hsms, h), append(configured, h.Name())
	}
	var failures []string
	for _, vc := range cfg.VaultHSMs() {
		configured = append(configured, vc.HSMName())
		h, err := openVaultHSM(ctx, vc)
		if err != nil && s.Unseal != UnsealAny {
			return nil, nil, err
		}
		if err != nil {
			logf("HSM %s is not available, starting without it: %v", ReportName(s.HSMNames, vc.HSMName()), err)
			failures = append(failures, err.Error())
			continue
		}
		hsms = append(hsms, h)
	}
	if len(configured) == 0 {
		return nil, nil, fmt.Errorf("no HSM configured: %s is not set and the config has no Vault block", LocalKeyEnv)
	}
	if len(hsms) == 0 {
		return nil, nil, fmt.Errorf("no configured HSM is available: %s", strings.Join(failures, "; "))
	}
	return hsms, configured, nil
}

// openVaultHSM logs in and proves the transit key can HMAC (a Vault HSM
// that cannot HMAC cannot derive the inter-node key).
func openVaultHSM(ctx context.Context, vc *VaultConfig) (HSM, error) {
	h, err := NewVaultHSM(ctx, vc)
	if err != nil {
		return nil, err
	}
	if err := h.Probe(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// interNodeKeys derives the inter-node key of every working HSM.
func interNodeKeys(ctx context.Context, hsms []HSM) ([]InterNodeKey, error) {
	keys := make([]InterNodeKey, 0, len(hsms))
	for _, h := range hsms {
		k, err := h.InterNodeKey(ctx)
		if err != nil {
			return nil, err
		}
		keys = append(keys, InterNodeKey{HSM: h.Name(), Key: k})
	}
	return keys, nil
}

func names(hsms []HSM) []string {
	out := make([]string, len(hsms))
	for i, h := range hsms {
		out[i] = h.Name()
	}
	return out
}

// peerClient verifies peers with the config's tls.ca (file or directory), or
// the system roots; a node without TLS settings cannot verify its peers'
// self-signed certificates and relies on the inter-node key alone.
func peerClient(cfg *Config) (*http.Client, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case cfg.CA != "":
		pool, err := caPool(cfg.CA)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	case cfg.SelfSigned():
		conf.InsecureSkipVerify = true
	}
	tr := &http.Transport{TLSClientConfig: conf, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	return &http.Client{Transport: tr, Timeout: peerTimeout}, nil
}

// serverTLS loads the node's certificates; client certificates are requested
// (for the admin identity) but not verified against a CA, as API keys are
// self-signed.
func serverTLS(cfg *Config, host string, logf func(string, ...any)) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ClientAuth: tls.RequestClientCert}
	if cfg.SelfSigned() {
		cert, err := selfSigned(host)
		if err != nil {
			return nil, err
		}
		logf("no TLS settings in the config: serving a self-signed certificate (clients must skip verification)")
		conf.Certificates = []tls.Certificate{cert}
		return conf, nil
	}
	for _, c := range cfg.Certs {
		cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, fmt.Errorf("tls.certs: %w", err)
		}
		conf.Certificates = append(conf.Certificates, cert)
	}
	return conf, nil
}

// serve runs the HTTPS API and the cluster until a stop signal, the context's
// end or the crash-after fault.
func (n *node) serve(ctx context.Context, started time.Time, f Faults, signals <-chan os.Signal, logger *log.Logger) int {
	logf := logger.Printf
	tlsConf, err := serverTLS(n.config, n.args.host, logf)
	if err != nil {
		logf("%v", err)
		return exitFailed
	}
	a := &api{cluster: n.cluster, writer: n.writer, admin: n.admin, version: n.settings.Version, host: n.args.host}
	ln, err := net.Listen("tcp", listenAddr(n.args.host))
	if err != nil {
		logf("listen: %v", err)
		return exitFailed
	}
	srv := &http.Server{Handler: a.handler(), TLSConfig: tlsConf, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: log.New(filterWriter{logger.Writer()}, "minkms: http: ", 0)}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go n.joinCluster(cctx, f.SlowStart, logf)
	logf("serving https://%s (node %d, %s)", n.args.host, n.settings.NodeID, n.settings.InternodeRule)
	code := n.wait(ctx, started, f, signals, errc, logf)
	cancel()
	srv.Close() // the process ends: no need to drain idle HTTP/2 connections
	return code
}

// joinCluster takes part in the cluster, after the slow-start delay if set.
func (n *node) joinCluster(ctx context.Context, delay time.Duration, logf func(string, ...any)) {
	if delay > 0 {
		logf("fault knob slow-start: not ready for %s", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
	n.cluster.Run(ctx)
}

func (n *node) wait(ctx context.Context, started time.Time, f Faults, signals <-chan os.Signal, errc <-chan error, logf func(string, ...any)) int {
	var crash <-chan time.Time
	if f.CrashAfter > 0 {
		crash = time.After(f.CrashAfter - time.Since(started))
	}
	for {
		select {
		case <-ctx.Done():
			return 0
		case err := <-errc:
			logf("serve: %v", err)
			return exitFailed
		case <-crash:
			logf("fault knob crash-after: crashing %s after start", f.CrashAfter)
			return exitCrash
		case sig := <-signals:
			if f.HangOnStop {
				logf("fault knob hang-on-stop: ignoring %v", sig)
				continue
			}
			logf("stopping on %v", sig)
			return 0
		}
	}
}

// filterWriter drops the TLS handshake noise of health probes without a CA.
type filterWriter struct{ w io.Writer }

func (f filterWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "TLS handshake error") {
		return len(p), nil
	}
	return f.w.Write(p)
}

// listenAddr is where the API listens: every interface on the --host port.
// --host is the address the node advertises to its peers; like the real key
// manager, the API is also reachable on the node's loopback, which is what
// kmsctl's SSH tunnel uses.
func listenAddr(host string) string {
	_, port, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}
	return net.JoinHostPort("", port)
}
