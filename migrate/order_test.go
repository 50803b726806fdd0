package migrate

import (
	"reflect"
	"testing"
)

func TestRestartOrder(t *testing.T) {
	nodes := []NodeAddr{
		{Name: "kms-1", Addrs: []string{"10.0.0.11", "kms-1.example:7373"}},
		{Name: "kms-2", Addrs: []string{"10.0.0.12"}},
		{Name: "kms-3", Addrs: []string{"10.0.0.13", "10.0.0.13:7373"}},
	}
	tests := []struct {
		name       string
		leaderHost string
		want       []string
		source     OrderSource
		leader     string
	}{
		{"leader first in inventory", "10.0.0.11:7373", []string{"kms-2", "kms-3", "kms-1"}, OrderFromCluster, "kms-1"},
		{"leader in the middle", "10.0.0.12:7373", []string{"kms-1", "kms-3", "kms-2"}, OrderFromCluster, "kms-2"},
		{"leader by opts host name", "KMS-1.example:7373", []string{"kms-2", "kms-3", "kms-1"}, OrderFromCluster, "kms-1"},
		{"leader last already", "10.0.0.13", []string{"kms-1", "kms-2", "kms-3"}, OrderFromCluster, "kms-3"},
		{"no cluster view", "", []string{"kms-1", "kms-2", "kms-3"}, OrderFromInventory, ""},
		{"unknown leader", "192.0.2.9:7373", []string{"kms-1", "kms-2", "kms-3"}, OrderFromInventory, ""},
		{"ipv6 brackets", "[2001:db8::1]:7373", []string{"kms-1", "kms-2", "kms-3"}, OrderFromInventory, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, src, leader := RestartOrder(nodes, tt.leaderHost)
			if !reflect.DeepEqual(got, tt.want) || src != tt.source || leader != tt.leader {
				t.Fatalf("RestartOrder(%q) = %v, %s, %q; want %v, %s, %q", tt.leaderHost, got, src, leader, tt.want, tt.source, tt.leader)
			}
		})
	}
}
