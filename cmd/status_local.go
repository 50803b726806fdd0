package cmd

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/migrate/systemd"
)

// LocalHSMReport says, for one node, where the local HSM key still counts:
// configured, holding a sealed root key entry (so the key can unseal this
// node's volume), in the env file, in the running daemon's environment.
// Nil pointers mean "could not tell" (the node is down, no API key).
type LocalHSMReport struct {
	// Names is the local HSM as the product names it, by difference (the
	// names a kmsctl run recorded, else the entries of HSMs no longer configured).
	Names       []string `json:"names"`
	Configured  *bool    `json:"configured"`
	SealedEntry *bool    `json:"sealed_entry"`
	// EnvFile: the env file sets MINIO_KMS_HSM_KEY.
	EnvFile bool `json:"env_file_key"`
	// Process: the unit's main process has MINIO_KMS_HSM_KEY in its
	// environment (from the env file or any other source).
	Process      *bool  `json:"unit_environment_key"`
	ProcessError string `json:"unit_environment_error,omitempty"`
	// PurgedBy is the kmsctl run that removed the local entries (RemoveHSM).
	PurgedBy string `json:"purged_by,omitempty"`
	// Note explains a state that needs a look (e.g. why the node cannot unseal).
	Note string `json:"note,omitempty"`
}

// localProbe is what the probe reads on the node for LocalHSMReport.
type localProbe struct {
	process    *bool
	processErr string
	purgedBy   string
	purged     []string
	unsealLine string
}

// localHSM reads the daemon's environment, the purge record and, when the
// unit is not running, the journal's last word on unsealing.
func (p *probe) localHSM(ctx context.Context) {
	t := &migrate.Target{Name: p.node.Name, Node: p.conn}
	p.local.purgedBy, p.local.purged = migrate.PurgeRecord(ctx, p.conn, p.node.BackupDir)
	u := p.rep.Unit
	if u != nil && u.MainPID > 0 {
		holds, err := migrate.KeyInProcess(ctx, t, u.MainPID)
		if err != nil {
			p.local.processErr = err.Error()
		} else {
			p.local.process = &holds
		}
	}
	if u == nil || u.ActiveState != "active" || p.rep.API == nil || !p.rep.API.Ready {
		p.local.unsealLine = unsealLine(systemd.Journal(ctx, p.conn, p.node.Unit, 30))
	}
}

// secretish matches what must never be echoed from a journal: API keys and HSM keys.
var secretish = regexp.MustCompile(`k1:\S+|hsm:(aes256|chacha20):\S+`)

// unsealLine is the journal's last line about unsealing, secrets masked.
func unsealLine(journal string) string {
	lines := strings.Split(journal, "\n")
	for _, l := range slices.Backward(lines) {
		if strings.Contains(strings.ToLower(l), "unseal") {
			return secretish.ReplaceAllString(strings.TrimSpace(l), "<redacted>")
		}
	}
	return ""
}

// localReport assembles one node's LocalHSMReport.
func localReport(r NodeReport, lp localProbe, rec *migrate.HSMNames) *LocalHSMReport {
	lr := &LocalHSMReport{Names: []string{}, Process: lp.process, ProcessError: lp.processErr, PurgedBy: lp.purgedBy}
	if r.Files != nil {
		lr.EnvFile = r.Files.LocalKey
	}
	var names *migrate.HSMNames
	if m := r.Member; m != nil {
		names = &migrate.HSMNames{Local: m.LocalHSMs}
		lr.Names = orEmpty(migrate.PurgeTargets(kmsapi.NodeStatus{HSM: m.HSM, HSMActive: m.HSMActive}, names, rec))
		lr.Names = orEmpty(union(lr.Names, lp.purged))
		configured, sealed := intersects(m.HSMActive, lr.Names), intersects(m.HSM, lr.Names)
		lr.Configured, lr.SealedEntry = &configured, &sealed
	} else if rec != nil || len(lp.purged) > 0 {
		if rec != nil {
			lr.Names = orEmpty(rec.Local)
		}
		lr.Names = orEmpty(union(lr.Names, lp.purged))
	}
	lr.Note = localNote(lr, lp)
	return lr
}

// localNote says what the state means when it needs a look.
func localNote(lr *LocalHSMReport, lp localProbe) string {
	keyed := lr.EnvFile || lr.Process != nil && *lr.Process
	noEntry := lr.SealedEntry != nil && !*lr.SealedEntry || lr.SealedEntry == nil && lr.PurgedBy != ""
	switch {
	case keyed && noEntry && lp.unsealLine != "":
		return "the env file holds a local HSM key, but the local HSM's sealed entry was removed (purge" + by(lr.PurgedBy) + "): the key alone cannot unseal this node; last unseal message: " + lp.unsealLine
	case keyed && noEntry:
		return "a local HSM key is still given to the unit, but the local HSM has no sealed entry (purge" + by(lr.PurgedBy) + "): it cannot unseal anything; remove it"
	case lr.SealedEntry != nil && *lr.SealedEntry && lr.Configured != nil && !*lr.Configured:
		return "the local HSM is no longer configured but its sealed entry remains: an old copy of the key still unseals a copy of this volume (kmsctl hsm purge-local removes it)"
	case lp.unsealLine != "":
		return "last unseal message: " + lp.unsealLine
	}
	return ""
}

func by(run string) string {
	if run == "" {
		return ""
	}
	return " by run " + run
}

func intersects(a, b []string) bool {
	return slices.ContainsFunc(a, func(x string) bool { return slices.Contains(b, x) })
}

// union is a and b, sorted, without repeats.
func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// localCell is the table's LOCAL HSM column: where the local key still counts.
func localCell(lr *LocalHSMReport) string {
	if lr == nil {
		return ""
	}
	var parts []string
	add := func(b *bool, word string) {
		switch {
		case b == nil:
			parts = append(parts, word+"?")
		case *b:
			parts = append(parts, word)
		}
	}
	add(lr.Configured, "configured")
	add(lr.SealedEntry, "entry")
	if lr.EnvFile {
		parts = append(parts, "env")
	}
	add(lr.Process, "process")
	if len(parts) == 0 {
		return "gone"
	}
	return strings.Join(parts, ",")
}
