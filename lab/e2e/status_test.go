package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// statusDoc is the part of `kmsctl status -o json` the status tests read.
type statusDoc struct {
	Schema  string `json:"schema"`
	Healthy bool   `json:"healthy"`
	Nodes   []struct {
		Name     string   `json:"name"`
		Healthy  bool     `json:"healthy"`
		Problems []string `json:"problems"`
		SSH      struct {
			Reachable bool   `json:"reachable"`
			Error     string `json:"error"`
		} `json:"ssh"`
		Sudo *struct {
			Mode string `json:"mode"`
		} `json:"sudo"`
		Unit *struct {
			ActiveState string `json:"active_state"`
			SubState    string `json:"sub_state"`
		} `json:"unit"`
		API *struct {
			Live  bool `json:"live"`
			Ready bool `json:"ready"`
		} `json:"api"`
		Member *struct {
			Leader bool `json:"leader"`
		} `json:"member"`
	} `json:"nodes"`
	Cluster *struct {
		Leader string            `json:"leader"`
		Up     []json.RawMessage `json:"nodes_up"`
		Down   []json.RawMessage `json:"nodes_down"`
	} `json:"cluster"`
}

// statusJSONOf runs `kmsctl status -o json` on inv and parses it.
func (l *lab) statusJSONOf(t *testing.T, inv string) (result, statusDoc) {
	t.Helper()
	r := l.kmsctl(t, nil, "status", "-i", inv, "-o", "json")
	var doc statusDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("status -o json is not JSON: %v\n%s", err, r)
	}
	if doc.Schema != "kmsctl.status/v1" {
		t.Fatalf("status schema %q, want kmsctl.status/v1", doc.Schema)
	}
	return r, doc
}

// tableRows reads a plain (NO_COLOR, piped) table: one map per row from
// header to cell, cut at the header's column offsets so cells that contain
// single spaces ("active (running)", "leader *") stay whole.
func tableRows(t *testing.T, out string, first string) []map[string]string {
	t.Helper()
	lines := strings.Split(out, "\n")
	h := slices.IndexFunc(lines, func(s string) bool { return strings.HasPrefix(s, first+" ") })
	if h < 0 {
		t.Fatalf("no table header starting with %q in:\n%s", first, out)
	}
	header := lines[h]
	var names []string
	var starts []int
	for _, loc := range regexp.MustCompile(`\S+( \S+)*`).FindAllStringIndex(header, -1) {
		names = append(names, header[loc[0]:loc[1]])
		starts = append(starts, loc[0])
	}
	var rows []map[string]string
	for _, line := range lines[h+1:] {
		if strings.TrimSpace(line) == "" {
			break
		}
		row := map[string]string{}
		for i, name := range names {
			end := len(line)
			if i+1 < len(starts) {
				end = min(starts[i+1], len(line))
			}
			if starts[i] < end {
				row[name] = strings.TrimSpace(line[starts[i]:end])
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// loadInventory parses one of the lab's inventories as plain YAML.
func (l *lab) loadInventory(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(l.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// section returns the mapping at path under m, creating it when missing.
func section(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	return m
}

// invNodes returns the nodes list of an inventory.
func invNodes(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, n := range m["nodes"].([]any) {
		out = append(out, n.(map[string]any))
	}
	if len(out) == 0 {
		t.Fatal("inventory has no nodes")
	}
	return out
}

// writeTemp writes data into the test's temporary directory (0600).
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// variant writes the lab inventory `base` after edit into a temporary file.
func (l *lab) variant(t *testing.T, base string, edit func(m map[string]any)) string {
	t.Helper()
	m := l.loadInventory(t, base)
	edit(m)
	data, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "inventory.yaml", data)
}

// assertAllHealthy checks the JSON and the table of a healthy lab: every
// node active, live and ready, exactly one leader, marked in the table.
func assertAllHealthy(t *testing.T, l *lab, inv, wantSudo string) {
	t.Helper()
	r, doc := l.statusJSONOf(t, inv)
	if r.code != 0 || !doc.Healthy {
		t.Fatalf("status -o json not healthy: %s", r)
	}
	var names []string
	for _, n := range doc.Nodes {
		names = append(names, n.Name)
		if !n.Healthy || !n.SSH.Reachable || n.Unit == nil || n.Unit.ActiveState != "active" || n.API == nil || !n.API.Ready || !n.API.Live {
			t.Errorf("node %s not healthy in JSON: %+v", n.Name, n)
		}
		if n.Sudo == nil || n.Sudo.Mode != wantSudo {
			t.Errorf("node %s: sudo %+v, want mode %q", n.Name, n.Sudo, wantSudo)
		}
	}
	if !slices.Equal(names, l.nodes) {
		t.Errorf("JSON lists nodes %v, want %v", names, l.nodes)
	}
	if doc.Cluster == nil || !slices.Contains(l.nodes, doc.Cluster.Leader) || len(doc.Cluster.Up) != len(l.nodes) || len(doc.Cluster.Down) != 0 {
		t.Fatalf("cluster view: %+v", doc.Cluster)
	}
	tab := l.kmsctl(t, nil, "status", "-i", inv)
	if tab.code != 0 {
		t.Fatalf("status table: %s", tab)
	}
	var leaders []string
	rows := tableRows(t, tab.stdout, "NODE")
	for _, row := range rows {
		if row["UNIT"] != "active (running)" || row["LIVE"] != "yes" || row["READY"] != "yes" || row["SSH"] != "ok" || row["SUDO"] != wantSudo {
			t.Errorf("table row not healthy: %v", row)
		}
		if row["ROLE"] == "leader *" {
			leaders = append(leaders, row["NODE"])
		}
	}
	if len(rows) != len(l.nodes) || !slices.Equal(leaders, []string{doc.Cluster.Leader}) {
		t.Errorf("table: %d rows, leaders marked %v, want %d rows and leader %s:\n%s", len(rows), leaders, len(l.nodes), doc.Cluster.Leader, tab.stdout)
	}
	if want := "nodes healthy; leader " + doc.Cluster.Leader; !strings.Contains(tab.stdout, want) {
		t.Errorf("table summary lacks %q:\n%s", want, tab.stdout)
	}
}

// TestStatusHealthyAsEveryUser: the table and the JSON show every node
// active and ready with the leader marked, as root, as the passwordless sudo
// user and as the password sudo user.
func TestStatusHealthyAsEveryUser(t *testing.T) {
	l := needLab(t)
	for _, tc := range []struct{ inv, sudo string }{
		{"inventory.yaml", "root"},
		{"inventory-sudo.yaml", "ok"},
		{"inventory-sudopw.yaml", "ok"},
	} {
		t.Run(tc.inv, func(t *testing.T) {
			assertAllHealthy(t, l, filepath.Join(l.dir, tc.inv), tc.sudo)
		})
	}
}

// TestStatusThroughProxyJump reaches every node but the bastion through the
// bastion (kms-1). The host's own SSH traffic to the last node is rejected
// inside that node, so only the jump can succeed there.
func TestStatusThroughProxyJump(t *testing.T) {
	l := needLab(t)
	victim := l.nodes[len(l.nodes)-1]
	rule := "table inet kmsctl_e2e_jump {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ip saddr 10.213.0.1 tcp dport 22 reject with tcp reset\n }\n}\n"
	must(t, l.exec(t, []byte(rule), victim, "nft", "-f", "-"), "block the host's ssh to "+victim)
	t.Cleanup(func() { l.exec(t, nil, victim, "nft", "delete", "table", "inet", "kmsctl_e2e_jump") })

	direct, doc := l.statusJSONOf(t, l.inventory())
	if direct.code != 3 || doc.Nodes[len(doc.Nodes)-1].SSH.Reachable {
		t.Fatalf("direct SSH to %s should be refused while the rule is in place: %s", victim, direct)
	}
	bastion := invNodes(t, l.loadInventory(t, "inventory.yaml"))[0]["address"].(string)
	inv := l.variant(t, "inventory.yaml", func(m map[string]any) {
		for _, n := range invNodes(t, m)[1:] {
			n["ssh"] = map[string]any{"proxy_jump": "root@" + bastion}
		}
	})
	assertAllHealthy(t, l, inv, "root")
}

// TestStatusUnhealthyNode: a stopped unit and a unit that systemd gave up on
// (failed) both show as not active, and status exits 3.
func TestStatusUnhealthyNode(t *testing.T) {
	l := needLab(t)
	node := l.nodes[len(l.nodes)-1]
	for _, tc := range []struct {
		name, wantState, wantCell string
		breakIt                   func(t *testing.T)
	}{
		{"stopped", "inactive", "inactive (dead)", func(t *testing.T) {
			must(t, l.exec(t, nil, node, "systemctl", "stop", "minkms"), "stop minkms")
		}},
		{"failed", "failed", "failed (failed)", func(t *testing.T) {
			must(t, l.labCmd(t, "fault", node, "fail-start"), "fault fail-start")
			must(t, l.exec(t, nil, node, "systemctl", "restart", "minkms"), "restart minkms")
			waitUnitState(t, l, node, "failed", 40*time.Second)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() {
				l.labCmd(t, "heal", node, "fail-start")
				l.exec(t, nil, node, "systemctl", "reset-failed", "minkms")
				must(t, l.exec(t, nil, node, "systemctl", "start", "minkms"), "start minkms")
				l.waitHealthy(t, 60*time.Second)
			})
			tc.breakIt(t)
			r, doc := l.statusJSONOf(t, l.inventory())
			if r.code != 3 || doc.Healthy {
				t.Fatalf("status with %s %s: want exit 3 and healthy=false: %s", tc.name, node, r)
			}
			n := doc.Nodes[len(doc.Nodes)-1]
			if n.Name != node || n.Healthy || n.Unit == nil || n.Unit.ActiveState != tc.wantState || !slices.ContainsFunc(n.Problems, func(p string) bool { return strings.Contains(p, "minkms") }) {
				t.Errorf("node %s in JSON: %+v, want unit %s and a problem naming minkms", node, n, tc.wantState)
			}
			tab := l.kmsctl(t, nil, "status", "-i", l.inventory())
			if tab.code != 3 {
				t.Errorf("table run: want exit 3: %s", tab)
			}
			for _, row := range tableRows(t, tab.stdout, "NODE") {
				if row["NODE"] == node && row["UNIT"] != tc.wantCell {
					t.Errorf("row of %s: UNIT %q, want %q:\n%s", node, row["UNIT"], tc.wantCell, tab.stdout)
				}
			}
			if !strings.Contains(tab.stdout, node+": unit minkms is "+tc.wantState) {
				t.Errorf("table does not explain the unit of %s:\n%s", node, tab.stdout)
			}
		})
	}
}

// waitUnitState polls systemctl until the unit reaches state.
func waitUnitState(t *testing.T, l *lab, node, state string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	last := ""
	for time.Now().Before(deadline) {
		last = strings.TrimSpace(l.exec(t, nil, node, "systemctl", "is-active", "minkms").stdout)
		if last == state {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: minkms is %q after %s, want %q", node, last, limit, state)
}

// TestStatusChangedHostKeyRefused: known_hosts holds another node's key for
// one node; status refuses that node, naming it and the file, and exits 3.
func TestStatusChangedHostKeyRefused(t *testing.T) {
	l := needLab(t)
	nodes := invNodes(t, l.loadInventory(t, "inventory.yaml"))
	donor, victim := nodes[0]["address"].(string), nodes[1]["address"].(string)
	data, err := os.ReadFile(filepath.Join(l.dir, "known_hosts"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		host, key, _ := strings.Cut(line, " ")
		keys[host] = key
	}
	if keys[donor] == "" || keys[victim] == "" || keys[donor] == keys[victim] {
		t.Fatalf("known_hosts lacks distinct keys for %s and %s:\n%s", donor, victim, data)
	}
	swapped := strings.Replace(string(data), victim+" "+keys[victim], victim+" "+keys[donor], 1)
	kh := writeTemp(t, "known_hosts", []byte(swapped))
	inv := l.variant(t, "inventory.yaml", func(m map[string]any) { section(m, "ssh")["known_hosts"] = kh })

	r, doc := l.statusJSONOf(t, inv)
	if r.code != 3 {
		t.Fatalf("want exit 3: %s", r)
	}
	for _, n := range doc.Nodes {
		if got, want := n.SSH.Reachable, n.Name != l.nodes[1]; got != want {
			t.Errorf("node %s: ssh reachable %v, want %v (%s)", n.Name, got, want, n.SSH.Error)
		}
	}
	tab := l.kmsctl(t, nil, "status", "-i", inv)
	out := tab.stdout + tab.stderr
	for _, want := range []string{l.nodes[1] + ": ssh: host key of", "HAS CHANGED", kh, "refusing to connect", "ssh-keygen -R"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %s", want, tab)
		}
	}
	if tab.code != 3 {
		t.Errorf("table run: want exit 3: %s", tab)
	}
	if strings.Contains(out, "node "+l.nodes[1]+": ") {
		t.Errorf("the node's name is repeated in its own row's message: %s", tab)
	}
}
