package node

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
)

// FaultsDir is where the stand-in looks for fault knobs.
const FaultsDir = "/etc/minkms-lab/faults/"

// LabYAMLPath is the node's lab-only settings file.
const LabYAMLPath = "/etc/minkms-lab/lab.yaml"

// KnobFault writes a fault knob file; content is "" or a number of seconds.
func KnobFault(ctx context.Context, pid int, kind, content string) error {
	return WriteFile(ctx, pid, FaultsDir+kind, []byte(content), "0644")
}

// HealKnob removes a fault knob (or all of them when kind is empty).
func HealKnob(ctx context.Context, pid int, kind string) error {
	if kind != "" {
		return RemoveFile(ctx, pid, FaultsDir+kind)
	}
	_, err := Output(ctx, pid, nil, "find", FaultsDir, "-mindepth", "1", "-maxdepth", "1", "-type", "f", "-delete")
	return err
}

// vaultDropTable drops the node's traffic to Vault only (the cutoff-vault fault).
var vaultDropTable = fmt.Sprintf(`table ip kmslab_fault {
	chain output {
		type filter hook output priority 0; policy accept;
		ip daddr %s tcp dport %d drop
	}
}
`, HostAddr, VaultPort)

// iptablesRule is the same drop rule for hosts without the nft tool.
var iptablesRule = []string{"OUTPUT", "-d", HostAddr, "-p", "tcp", "--dport", strconv.Itoa(VaultPort),
	"-m", "comment", "--comment", "kmslab_fault", "-j", "DROP"}

// haveNft reports whether the nft tool is installed (else iptables is used).
func haveNft() bool {
	_, err := exec.LookPath("nft")
	return err == nil
}

// CutoffVault installs the drop rule in the node's network namespace.
func CutoffVault(ctx context.Context, s Spec) error {
	if err := HealVault(ctx, s); err != nil {
		return err
	}
	var err error
	if haveNft() {
		_, err = output(ctx, []byte(vaultDropTable), "ip", "netns", "exec", s.Netns(), "nft", "-f", "-")
	} else {
		err = run(ctx, "ip", append([]string{"netns", "exec", s.Netns(), "iptables", "-A"}, iptablesRule...)...)
	}
	if err != nil {
		return fmt.Errorf("cutoff-vault %s: %w", s.Name(), err)
	}
	return nil
}

// HealVault removes the drop rule; a missing rule is fine.
func HealVault(ctx context.Context, s Spec) error {
	if !haveNft() {
		for run(ctx, "ip", append([]string{"netns", "exec", s.Netns(), "iptables", "-D"}, iptablesRule...)...) == nil {
		}
		return nil
	}
	out, err := output(ctx, nil, "ip", "netns", "exec", s.Netns(), "nft", "list", "tables")
	if err != nil {
		return err
	}
	if !regexp.MustCompile(`\bkmslab_fault\b`).Match(out) {
		return nil
	}
	return run(ctx, "ip", "netns", "exec", s.Netns(), "nft", "delete", "table", "ip", "kmslab_fault")
}

// SetLabSetting rewrites one key of the node's lab.yaml (vault_block or
// internode_rule); the stand-in reads it at its next start.
func SetLabSetting(ctx context.Context, pid int, key, value string) error {
	cur, err := ReadFile(ctx, pid, LabYAMLPath)
	if err != nil {
		return err
	}
	next, err := replaceSetting(cur, key, value)
	if err != nil {
		return err
	}
	return WriteFile(ctx, pid, LabYAMLPath, next, "0644")
}

// replaceSetting sets the top-level "key: value" line of a lab.yaml.
func replaceSetting(cur []byte, key, value string) ([]byte, error) {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `:.*$`)
	if !re.Match(cur) {
		return nil, fmt.Errorf("%s has no %s line", LabYAMLPath, key)
	}
	return re.ReplaceAll(cur, []byte(key+": "+value)), nil
}

// Seconds validates a fault's seconds argument.
func Seconds(arg string) (string, error) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 0 {
		return "", fmt.Errorf("seconds must be a non-negative integer, got %q", arg)
	}
	return strconv.Itoa(n), nil
}
