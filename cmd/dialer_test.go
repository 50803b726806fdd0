package cmd

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/remote"
)

// TestTimeoutBoundsConnect: --timeout, not a fixed 10 s, bounds the SSH
// connect when neither --connect-timeout nor ssh_config sets one; an
// explicit --connect-timeout wins.
func TestTimeoutBoundsConnect(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	for _, tc := range []struct {
		opts DialerOptions
		want string
	}{
		{DialerOptions{Timeout: 45 * time.Second}, "connect timeout 45s"},
		{DialerOptions{Timeout: 45 * time.Second, ConnectTimeout: 3 * time.Second}, "connect timeout 3s"},
	} {
		var trace bytes.Buffer
		tc.opts.Debug, tc.opts.SSHConfig = &trace, "none"
		d, _ := newSSHDialer(tc.opts)
		t.Setenv("SSH_AUTH_SOCK", "")
		_, err := d.Dial(context.Background(), remote.Target{Name: "kms-1", Address: "127.0.0.1", Port: port, User: "x", KnownHosts: filepath.Join(t.TempDir(), "kh")})
		if err == nil || !strings.Contains(trace.String(), tc.want) {
			t.Errorf("trace %q lacks %q (err %v)", trace.String(), tc.want, err)
		}
	}
}
