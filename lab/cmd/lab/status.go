package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/node"
	"github.com/kmsctl/kmsctl/lab/internal/vaultlab"
)

// nodeStatus is one line of `lab status`.
type nodeStatus struct {
	name, address, unit, hsm, role, ready string
}

// cmdStatus prints, per node: unit state, HSM entries in rek.json, role and
// readiness; then Vault's state.
func cmdStatus(ctx context.Context, args []string) error {
	l, rest, err := parseDir("status", args, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errors.New("usage: lab status [--dir DIR]")
	}
	st, err := l.LoadState()
	if err != nil {
		return err
	}
	rows := make([]nodeStatus, len(st.Nodes))
	var wg sync.WaitGroup
	for i, n := range st.Nodes {
		wg.Add(1)
		go func() { defer wg.Done(); rows[i] = statusOf(ctx, l, n) }()
	}
	wg.Wait()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDRESS\tUNIT\tHSM ENTRIES\tROLE\tREADY")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.name, r.address, r.unit, r.hsm, r.role, r.ready)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Println("vault: " + vaultState(ctx, l))
	fmt.Printf("variant: %s (a node's lab.yaml may differ after lab fault)\n", labVariant(st))
	return nil
}

func statusOf(ctx context.Context, l labdir.Layout, n labdir.NodeState) nodeStatus {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r := nodeStatus{name: n.Name, address: n.Address, unit: unitState(ctx, n.PID), hsm: hsmEntries(ctx, n.PID), role: "-", ready: "no"}
	c, err := httpsClient(l, 2*time.Second)
	if err == nil && ready(ctx, c, n.Address+":7373") {
		r.ready = "yes"
	}
	if role, err := roleOf(ctx, l, n); err == nil {
		r.role = role
	}
	return r
}

// unitState is "ActiveState/SubState (restarts N)" from the node's systemd.
func unitState(ctx context.Context, pid int) string {
	out, err := node.Output(ctx, pid, nil, "systemctl", "show", "minkms", "-p", "ActiveState,SubState,NRestarts")
	if err != nil {
		return "unknown"
	}
	kv := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		kv[k] = v
	}
	return fmt.Sprintf("%s/%s (restarts %s)", kv["ActiveState"], kv["SubState"], kv["NRestarts"])
}

// hsmEntries lists the HSM names in the volume's rek.json.
func hsmEntries(ctx context.Context, pid int) string {
	b, err := node.ReadFile(ctx, pid, "/var/lib/minkms/rek.json")
	if err != nil {
		return "none"
	}
	var rek struct {
		HSM map[string]json.RawMessage `json:"hsm"`
	}
	if json.Unmarshal(b, &rek) != nil {
		return "unreadable"
	}
	names := make([]string, 0, len(rek.HSM))
	for k := range rek.HSM {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// roleOf asks the node itself (ClusterStatus with the lab API key) for its role.
func roleOf(ctx context.Context, l labdir.Layout, n labdir.NodeState) (string, error) {
	c, err := l.KMSClient(n.Address + ":7373")
	if err != nil {
		return "", err
	}
	cs, err := labdir.ClusterStatus(ctx, c)
	if err != nil {
		return "", err
	}
	if s, ok := cs.NodesUp[n.Index]; ok {
		return s.Role, nil
	}
	return "", fmt.Errorf("%s not in its own cluster view", n.Name)
}

func vaultState(ctx context.Context, l labdir.Layout) string {
	srv, err := vaultlab.Open(vaultConfig(l))
	if err != nil {
		return "unknown: " + err.Error()
	}
	st, err := srv.Status(ctx)
	switch {
	case err != nil:
		return "unknown: " + err.Error()
	case st.PID == 0:
		return "stopped"
	case !st.Answering:
		return fmt.Sprintf("pid %d, not answering", st.PID)
	case st.Sealed:
		return fmt.Sprintf("pid %d, sealed", st.PID)
	}
	return fmt.Sprintf("pid %d, unsealed, %s", st.PID, vaultConfig(l).URL())
}
