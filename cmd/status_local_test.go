package cmd

import (
	"strings"
	"testing"

	"github.com/kmsctl/kmsctl/migrate"
)

func TestLocalReport(t *testing.T) {
	yes, no := true, false
	member := func(hsm, active []string) *MemberReport { return &MemberReport{HSM: hsm, HSMActive: active} }
	rec := &migrate.HSMNames{Local: []string{"hsm:minio:soft"}}
	tests := []struct {
		name      string
		rep       NodeReport
		lp        localProbe
		cell      string
		note      string
		entry     *bool
		wantNames string
	}{
		{"purged", NodeReport{Files: &FilesReport{}, Member: member([]string{"hsm:hashicorp:vault"}, []string{"hsm:hashicorp:vault"})},
			localProbe{process: &no, purgedBy: "run-1", purged: []string{"hsm:minio:soft"}}, "gone", "", &no, "hsm:minio:soft"},
		{"migrated, not purged", NodeReport{Files: &FilesReport{}, Member: member([]string{"hsm:hashicorp:vault", "hsm:minio:soft"}, []string{"hsm:hashicorp:vault"})},
			localProbe{process: &no}, "entry", "kmsctl hsm purge-local", &yes, "hsm:minio:soft"},
		{"key put back, node down", NodeReport{Files: &FilesReport{LocalKey: true}},
			localProbe{purgedBy: "run-1", purged: []string{"hsm:minio:soft"}, unsealLine: "minkms: no configured HSM can unseal the root encryption key"},
			"configured?,entry?,env,process?", "the key alone cannot unseal this node", nil, "hsm:minio:soft"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := localReport(tt.rep, tt.lp, rec)
			if got := localCell(lr); got != tt.cell {
				t.Errorf("cell %q, want %q", got, tt.cell)
			}
			if tt.note == "" && lr.Note != "" || !strings.Contains(lr.Note, tt.note) {
				t.Errorf("note %q, want %q", lr.Note, tt.note)
			}
			if (lr.SealedEntry == nil) != (tt.entry == nil) || lr.SealedEntry != nil && *lr.SealedEntry != *tt.entry {
				t.Errorf("sealed entry %v, want %v", lr.SealedEntry, tt.entry)
			}
			if strings.Join(lr.Names, ",") != tt.wantNames {
				t.Errorf("names %v", lr.Names)
			}
		})
	}
}

func TestUnsealLineMasksSecrets(t *testing.T) {
	j := "x minkms: API Key k1:secretsecret\ny minkms: cannot unseal with hsm:aes256:SECRETKEY: bad\nz other"
	got := unsealLine(j)
	if strings.Contains(got, "SECRET") || strings.Contains(got, "secret") || !strings.Contains(got, "cannot unseal") {
		t.Fatalf("unsealLine = %q", got)
	}
}
