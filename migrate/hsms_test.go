package migrate

import (
	"reflect"
	"testing"
)

func TestIdentifyHSMs(t *testing.T) {
	soft, vault := "hsm:minio:soft", "hsm:hashicorp:vault"
	tests := []struct {
		name  string
		views []HSMView
		want  map[string]HSMNames
		err   bool
	}{
		{"before the change everything is local", []HSMView{{Node: "a", Active: []string{soft}, LocalKey: true}},
			map[string]HSMNames{"a": {Local: []string{soft}}}, false},
		{"a resumed node is told apart by its peers", []HSMView{
			{Node: "a", Active: []string{soft, vault}, VaultBlock: true, LocalKey: true},
			{Node: "b", Active: []string{soft}, LocalKey: true}},
			map[string]HSMNames{"a": {Local: []string{soft}, Vault: []string{vault}}, "b": {Local: []string{soft}}}, false},
		{"or by a node already on Vault only", []HSMView{
			{Node: "a", Active: []string{soft, vault}, VaultBlock: true, LocalKey: true},
			{Node: "b", Active: []string{vault}, VaultBlock: true}},
			map[string]HSMNames{"a": {Local: []string{soft}, Vault: []string{vault}}, "b": {Vault: []string{vault}}}, false},
		{"or by its run record", []HSMView{
			{Node: "a", Active: []string{vault, soft}, VaultBlock: true, LocalKey: true, Recorded: &HSMNames{Local: []string{soft}}}},
			map[string]HSMNames{"a": {Local: []string{soft}, Vault: []string{vault}}}, false},
		{"never guessed", []HSMView{{Node: "a", Active: []string{soft, vault}, VaultBlock: true, LocalKey: true}},
			map[string]HSMNames{}, true},
	}
	for _, tt := range tests {
		got, err := IdentifyHSMs(tt.views)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestNodeMatcher(t *testing.T) {
	nodes := []NodeAddr{
		{Name: "kms-1", Addrs: NodeAddrs("kms-1", "10.0.0.11", "https://127.0.0.1:7373", "")},
		{Name: "kms-2", Addrs: NodeAddrs("kms-2", "10.0.0.12", "https://kms-2.example:7373", "10.1.0.12")},
	}
	for host, want := range map[string]int{"10.0.0.11:7373": 0, "KMS-1:7373": 0, "127.0.0.1:7373": -1, "kms-2.example:7373": 1, "10.1.0.12:7373": 1, "[10.1.0.12]:7373": 1, "10.9.9.9:7373": -1} {
		if got := MatchNode(nodes, host); got != want {
			t.Errorf("MatchNode(%q) = %d, want %d", host, got, want)
		}
	}
	if h := DaemonHost([]byte("MINIO_KMS_OPTS=\"--config /etc/minkms/config.yaml --host 10.1.0.12:7373\"\n")); h != "10.1.0.12:7373" {
		t.Errorf("DaemonHost = %q", h)
	}
}
