package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// snapshotPaths are the files a migration changes, and the sealed root key.
var snapshotPaths = []string{"/etc/minkms/config.yaml", "/etc/default/minkms", "/var/lib/minkms/rek.json"}

// cleanup removes what either tool leaves behind: kmsctl's backups and
// locks, and Ansible's `backup: yes` copies (which hold secrets).
const cleanup = "rm -rf /var/lib/kmsctl /run/lock/kmsctl-*.lock /etc/minkms/config.yaml.*~ /etc/default/minkms.*~"

// nodeFile is one file of a node as it was in the lab's `up` state.
type nodeFile struct {
	path, owner, mode string
	data              []byte
}

// labCtl drives the lab without SSH (lab exec: nsenter into the node), so
// resets and journal reads never touch the SSH paths being measured.
type labCtl struct {
	bin, dir, src string
	nodes         []string
	snap          map[string][]nodeFile
}

// exec runs args inside node and returns its stdout.
func (c *labCtl) exec(ctx context.Context, stdin []byte, node string, args ...string) (string, error) {
	full := append([]string{"exec", "--dir", c.dir, node, "--"}, args...)
	cmd := exec.CommandContext(ctx, c.bin, full...)
	cmd.Env = append(os.Environ(), "LAB_SRC_DIR="+c.src)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: %s: %w: %s", node, args[0], err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// forNodes runs fn on every node at once and joins the errors.
func (c *labCtl) forNodes(fn func(node string) error) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// snapshot records every node's files; it refuses a lab that is not in its
// `up` state (a Vault block in a config, or no local key in an env file).
func (c *labCtl) snapshot(ctx context.Context) error {
	var mu sync.Mutex
	c.snap = map[string][]nodeFile{}
	return c.forNodes(func(n string) error {
		var files []nodeFile
		for _, p := range snapshotPaths {
			st, err := c.exec(ctx, nil, n, "stat", "-c", "%U:%G %a", p)
			if err != nil {
				return err
			}
			owner, mode, _ := strings.Cut(strings.TrimSpace(st), " ")
			data, err := c.exec(ctx, nil, n, "cat", p)
			if err != nil {
				return err
			}
			files = append(files, nodeFile{path: p, owner: owner, mode: mode, data: []byte(data)})
		}
		if err := upState(n, files); err != nil {
			return err
		}
		mu.Lock()
		c.snap[n] = files
		mu.Unlock()
		return nil
	})
}

// upState checks that the snapshot is the state `lab up` leaves.
func upState(node string, files []nodeFile) error {
	for _, f := range files {
		switch {
		case f.path == "/etc/minkms/config.yaml" && bytes.Contains(f.data, []byte("vault:")):
			return fmt.Errorf("%s: %s already has a Vault block: reset the lab (lab down, lab up) first", node, f.path)
		case f.path == "/etc/default/minkms" && !bytes.Contains(f.data, []byte("MINIO_KMS_HSM_KEY=")):
			return fmt.Errorf("%s: %s has no local HSM key: reset the lab (lab down, lab up) first", node, f.path)
		}
	}
	return nil
}

// reset puts the snapshot back on every node, removes backups and locks,
// restarts every node and waits until healthy (healthy runs `kmsctl status`).
func (c *labCtl) reset(ctx context.Context, healthy func(context.Context) bool) error {
	restore := `cat > "$1.reset" && chown "$2" "$1.reset" && chmod "$3" "$1.reset" && mv -f "$1.reset" "$1"`
	err := c.forNodes(func(n string) error {
		for _, f := range c.snap[n] {
			if _, err := c.exec(ctx, f.data, n, "sh", "-c", restore, "sh", f.path, f.owner, f.mode); err != nil {
				return fmt.Errorf("restore %s: %w", f.path, err)
			}
		}
		if _, err := c.exec(ctx, nil, n, "sh", "-c", cleanup); err != nil {
			return err
		}
		_, err := c.exec(ctx, nil, n, "systemctl", "restart", "minkms")
		return err
	})
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	return c.waitHealthy(ctx, healthy, 90*time.Second)
}

func (c *labCtl) waitHealthy(ctx context.Context, healthy func(context.Context) bool, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if healthy(ctx) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("lab %s not healthy after %s", c.dir, limit)
}

// journals reads every node's minkms journal since the given time.
func (c *labCtl) journals(ctx context.Context, since time.Time) (map[string]string, error) {
	var mu sync.Mutex
	out := map[string]string{}
	err := c.forNodes(func(n string) error {
		text, err := c.exec(ctx, nil, n, "journalctl", "-u", "minkms", "-o", "short-iso-precise", "--no-pager",
			"--since", "@"+strconv.FormatInt(since.Unix()-1, 10))
		if err != nil {
			return err
		}
		mu.Lock()
		out[n] = text
		mu.Unlock()
		return nil
	})
	return out, err
}

// plainRootBashrc is written to every node's /root/.bashrc by
// -plain-root-bashrc. A node's /root is an overlay on the lab host's /root,
// so without it every root SSH session (bash sources ~/.bashrc when started
// by sshd) runs whatever the host's .bashrc runs (on the benchmark machine:
// `pyenv init`, about 100 ms per session), which no key manager server does.
const plainRootBashrc = "# kmsctl bench (-plain-root-bashrc): a server's root shell, not the lab host's\n"

// plainRootShell gives every node a root .bashrc of its own. The file stays
// until the lab is taken down (`lab down` removes the node's overlay).
func (c *labCtl) plainRootShell(ctx context.Context) error {
	return c.forNodes(func(n string) error {
		_, err := c.exec(ctx, []byte(plainRootBashrc), n, "sh", "-c", "cat > /root/.bashrc")
		return err
	})
}
