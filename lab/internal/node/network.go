package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// EnsureBridge creates the lab bridge with the host address (idempotent), so the
// host (Vault, ssh clients, tests) reaches every node and nodes reach each other.
func EnsureBridge(ctx context.Context) error {
	if !linkExists(Bridge) {
		if err := run(ctx, "ip", "link", "add", Bridge, "type", "bridge"); err != nil {
			return err
		}
	}
	addr := fmt.Sprintf("%s/%d", HostAddr, PrefixLen)
	out, err := output(ctx, nil, "ip", "-o", "addr", "show", "dev", Bridge)
	if err != nil {
		return err
	}
	if !strings.Contains(string(out), " "+addr+" ") {
		if err := run(ctx, "ip", "addr", "add", addr, "dev", Bridge); err != nil {
			return err
		}
	}
	return run(ctx, "ip", "link", "set", Bridge, "up")
}

// SetupNetwork creates the node's named netns and a veth pair whose node side is
// eth0 with the node's address and a default route via the host.
func SetupNetwork(ctx context.Context, s Spec) error {
	cmds := [][]string{
		{"ip", "netns", "add", s.Netns()},
		{"ip", "link", "add", s.Veth(), "type", "veth", "peer", "name", s.peerVeth()},
		{"ip", "link", "set", s.peerVeth(), "netns", s.Netns()},
		{"ip", "link", "set", s.Veth(), "master", Bridge, "up"},
		{"ip", "-n", s.Netns(), "link", "set", s.peerVeth(), "name", "eth0"},
		{"ip", "-n", s.Netns(), "addr", "add", fmt.Sprintf("%s/%d", s.Address(), PrefixLen), "dev", "eth0"},
		{"ip", "-n", s.Netns(), "link", "set", "eth0", "up"},
		{"ip", "-n", s.Netns(), "link", "set", "lo", "up"},
		{"ip", "-n", s.Netns(), "route", "add", "default", "via", HostAddr},
	}
	for _, c := range cmds {
		if err := run(ctx, c[0], c[1:]...); err != nil {
			return fmt.Errorf("network of %s: %w", s.Name(), err)
		}
	}
	return nil
}

// TeardownNetwork deletes the node's veth and netns; missing ones are fine, so
// down can run twice and after a crashed up.
func TeardownNetwork(ctx context.Context, s Spec) error {
	var errs []string
	if linkExists(s.Veth()) {
		if err := run(ctx, "ip", "link", "del", s.Veth()); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if linkExists(s.peerVeth()) {
		_ = run(ctx, "ip", "link", "del", s.peerVeth())
	}
	if netnsExists(s.Netns()) {
		if err := run(ctx, "ip", "netns", "del", s.Netns()); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("teardown network of %s: %s", s.Name(), strings.Join(errs, "; "))
	}
	return nil
}

// RemoveBridge deletes the lab bridge if present.
func RemoveBridge(ctx context.Context) error {
	if !linkExists(Bridge) {
		return nil
	}
	return run(ctx, "ip", "link", "del", Bridge)
}

// LeftoverSpecs finds lab nodes by their lab-specific names (netns, veth,
// cgroup), so down can clean up after a crashed up that wrote no state.
func LeftoverSpecs() []Spec {
	seen := map[int]bool{}
	collect := func(dir, stem string) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if rest, ok := strings.CutPrefix(e.Name(), stem); ok {
				if i, err := strconv.Atoi(rest); err == nil && i > 0 {
					seen[i] = true
				}
			}
		}
	}
	collect("/run/netns", NetnsStem)
	collect("/sys/class/net", VethStem)
	collect(cgroupParent(), "kms-")
	var out []Spec
	for i := 1; i <= MaxNodes; i++ {
		if seen[i] {
			out = append(out, Spec{Index: i})
		}
	}
	return out
}

// SetLink brings the node's host-side veth up or down: the "cutoff" fault.
func SetLink(ctx context.Context, s Spec, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return run(ctx, "ip", "link", "set", s.Veth(), state)
}

func linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

func netnsExists(name string) bool {
	_, err := os.Stat(filepath.Join("/run/netns", name))
	return err == nil
}
