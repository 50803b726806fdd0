package cmd

import (
	"context"
	"sync"

	"github.com/kmsctl/kmsctl/remote"
)

// newSSHDialer builds the production SSH dialer. remote.SSHDialer takes one
// sudo password source, so nodes with different sudo_password_file values
// get one SSHDialer each; all nodes of a usual inventory share one.
func newSSHDialer(opts DialerOptions) (remote.Dialer, error) {
	return &routingDialer{opts: opts, dialers: map[string]*remote.SSHDialer{}}, nil
}

// routingDialer picks the SSHDialer of a target's sudo password source.
type routingDialer struct {
	opts    DialerOptions
	mu      sync.Mutex
	dialers map[string]*remote.SSHDialer
}

// Dial connects to t with the dialer of its sudo password source.
func (r *routingDialer) Dial(ctx context.Context, t remote.Target) (remote.Node, error) {
	return r.dialer(r.opts.SudoPasswordFiles[t.Name]).Dial(ctx, t)
}

func (r *routingDialer) dialer(file string) *remote.SSHDialer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d, ok := r.dialers[file]; ok {
		return d
	}
	o := remote.SSHOptions{
		ConnectTimeout:         r.opts.ConnectTimeout,
		FallbackConnectTimeout: r.opts.Timeout,
		SSHConfig:              r.opts.SSHConfig,
		Debug:                  r.opts.Debug,
		AcceptNewHostKeys:      r.opts.AcceptNewHostKeys,
		SudoPassword:           func() ([]byte, error) { return r.opts.SudoPassword(file) },
		Warnings:               r.opts.Warnings,
	}
	if prompt := r.opts.Prompt; prompt != nil {
		o.Passphrase = func(keyFile string) ([]byte, error) { return prompt("passphrase for " + keyFile) }
	}
	d := remote.NewSSHDialer(o)
	r.dialers[file] = d
	return d
}
