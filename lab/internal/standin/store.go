package standin

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// dbFile holds a node's enclaves and keys, each key sealed under the REK.
const dbFile = "db.json"

// keyDB is the content of VOLUME/db.json.
type keyDB struct {
	Enclaves map[string]enclaveRecord `json:"enclaves"`
	Keys     map[string][]keyVersion  `json:"keys"` // "<enclave>/<key>" -> versions, oldest first
}

type enclaveRecord struct {
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// keyVersion is one version of a key; Sealed is the key material encrypted
// with AES-256-GCM under the node's REK (nonce first).
type keyVersion struct {
	versionMeta
	Sealed []byte `json:"sealed"`
}

// versionMeta is what a key version says of itself, kept in the database
// and sent with a copy of the version (write_confirm.go).
type versionMeta struct {
	Version   uint32    `json:"version"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// store is a node's on-disk state after unsealing: the sealed REK entries
// and the key database. Writes to it come from the cluster's write path.
type store struct {
	volume     string
	naming     string
	rek        []byte
	hsms       []HSM    // the HSMs that work
	configured []string // ids of every configured HSM
	onSealed   func(names []string)

	mu     sync.Mutex
	sealed *Sealed
	db     *keyDB
}

// openStore loads db.json and checks that every key opens under the REK (a
// volume whose database does not match its REK fails the start).
func openStore(volume, naming string, u *Unsealed, hsms []HSM, configured []string) (*store, error) {
	s := &store{volume: volume, naming: naming, rek: u.REK, hsms: hsms, configured: configured,
		sealed: u.Sealed, db: &keyDB{Enclaves: map[string]enclaveRecord{}, Keys: map[string][]keyVersion{}}}
	data, err := os.ReadFile(filepath.Join(volume, dbFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read key database: %w", err)
	}
	if err := json.Unmarshal(data, s.db); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(volume, dbFile), err)
	}
	for id, versions := range s.db.Keys {
		for _, v := range versions {
			if _, err := s.material(id, v); err != nil {
				return nil, fmt.Errorf("%s: key %s v%d: %w", filepath.Join(volume, dbFile), id, v.Version, err)
			}
		}
	}
	return s, nil
}

// sealedNames are the reported names of the HSMs with an entry.
func (s *store) sealedNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ReportNames(s.naming, s.sealed.Names())
}

func (s *store) rekAEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher(s.rek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealMaterial encrypts key material under the REK, bound to the key's id.
func (s *store) sealMaterial(id string, version uint32, material []byte) ([]byte, error) {
	aead, err := s.rekAEAD()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, material, keyAAD(id, version)), nil
}

// material decrypts a key version's material with the REK.
func (s *store) material(id string, v keyVersion) ([]byte, error) {
	aead, err := s.rekAEAD()
	if err != nil {
		return nil, err
	}
	if len(v.Sealed) < aead.NonceSize() {
		return nil, errors.New("malformed sealed key")
	}
	n := aead.NonceSize()
	m, err := aead.Open(nil, v.Sealed[:n], v.Sealed[n:], keyAAD(id, v.Version))
	if err != nil {
		return nil, errors.New("does not decrypt with the root encryption key")
	}
	return m, nil
}

func keyAAD(id string, version uint32) []byte {
	return fmt.Appendf(nil, "minkms-lab key %s v%d", id, version)
}

func (s *store) saveDB() error {
	data, err := json.MarshalIndent(s.db, "", "  ")
	if err != nil {
		return fmt.Errorf("encode key database: %w", err)
	}
	if err := writeAtomic(s.volume, dbFile, append(data, '\n')); err != nil {
		return fmt.Errorf("write key database: %w", err)
	}
	return nil
}

// writeOp is one cluster write, applied by the leader and then by every peer.
type writeOp struct {
	From       uint32 `json:"from"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Overwrite  bool   `json:"overwrite,omitempty"`
	Enclave    string `json:"enclave,omitempty"`
	Type       string `json:"type,omitempty"`
	AddVersion bool   `json:"add_version,omitempty"`
	Material   []byte `json:"material,omitempty"` // new key material, chosen by the leader
	DryRun     bool   `json:"dry_run,omitempty"`  // add-hsm: only check that no entry exists
	// Undo takes back a create that did not reach every node (see
	// writer.everywhere): a write the client was told failed leaves nothing.
	Undo bool `json:"undo,omitempty"`
	// Replicated is set on a peer applying the leader's write: the leader
	// already decided it, so a peer converges (a create replaces a leftover
	// of an earlier, taken-back try; a remove of what is gone is done).
	Replicated bool `json:"-"`
	// Versions is an ensure-key's copy of the leader's key (write_confirm.go).
	Versions []versionCopy `json:"versions,omitempty"`
	At       time.Time     `json:"at"`
	By       string        `json:"by"`
}

// Kinds of writeOp.
const (
	opAddHSM        = "add-hsm"
	opRemoveHSM     = "remove-hsm"
	opCreateEnclave = "create-enclave"
	opCreateKey     = "create-key"
)

// apply performs op on this node's state.
func (s *store) apply(ctx context.Context, op writeOp, logf func(string, ...any)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op.Undo {
		return s.undo(op)
	}
	switch op.Kind {
	case opAddHSM:
		return s.addHSM(ctx, op, logf)
	case opRemoveHSM:
		return s.removeHSM(op, logf)
	case opCreateEnclave:
		if _, ok := s.db.Enclaves[op.Name]; ok {
			return errEnclaveExists
		}
		s.db.Enclaves[op.Name] = enclaveRecord{CreatedAt: op.At, CreatedBy: op.By}
		return s.saveDB()
	case opCreateKey:
		return s.createKey(op)
	case opEnsureEnclave:
		return s.ensureEnclave(op)
	case opEnsureKey:
		return s.ensureKey(op)
	}
	return badRequest("unknown write %q", op.Kind)
}

func (s *store) createKey(op writeOp) error {
	if _, ok := s.db.Enclaves[op.Enclave]; !ok {
		return errEnclaveNotFound
	}
	id := op.Enclave + "/" + op.Name
	versions := s.db.Keys[id]
	switch {
	case len(versions) > 0 && !op.AddVersion && op.Replicated:
		versions = nil // the leader decided: a leftover of a taken-back try goes
	case len(versions) > 0 && !op.AddVersion:
		return errKeyExists
	case len(versions) == 0 && op.AddVersion:
		return errKeyNotFound
	}
	v := keyVersion{versionMeta: versionMeta{Version: uint32(len(versions) + 1), Type: op.Type, CreatedAt: op.At, CreatedBy: op.By}}
	sealed, err := s.sealMaterial(id, v.Version, op.Material)
	if err != nil {
		return err
	}
	v.Sealed = sealed
	s.db.Keys[id] = append(versions, v)
	return s.saveDB()
}

// addHSM seals the REK for the configured, working HSM named op.Name that
// lacks an entry (or, with Overwrite, seals it again: Vault uses the newest
// transit key version).
func (s *store) addHSM(ctx context.Context, op writeOp, logf func(string, ...any)) error {
	var targets []HSM
	for _, h := range s.hsms {
		if ReportName(s.naming, h.Name()) == op.Name {
			targets = append(targets, h)
		}
	}
	if len(targets) == 0 {
		if len(idsNamed(s.naming, op.Name, s.configured)) > 0 {
			return &apiError{http.StatusServiceUnavailable, fmt.Sprintf("HSM %s is configured but not available on this node", op.Name)}
		}
		return badRequest("HSM %s is not configured: AddHSM can only add HSMs that have been removed using RemoveHSM", op.Name)
	}
	for _, h := range targets {
		if _, ok := s.sealed.HSM[h.Name()]; ok && !op.Overwrite {
			return &apiError{http.StatusConflict, fmt.Sprintf("HSM %s already has a sealed root encryption key entry (overwrite re-seals it)", op.Name)}
		}
	}
	if op.DryRun {
		return nil
	}
	how := ""
	for _, h := range targets {
		entry, err := h.Seal(ctx, s.rek)
		if err != nil {
			return fmt.Errorf("seal root encryption key for %s: %w", op.Name, err)
		}
		s.sealed.HSM[h.Name()] = entry
		s.sealed.Removed = slices.DeleteFunc(s.sealed.Removed, func(id string) bool { return id == h.Name() })
		if v, ok := EntryKeyVersion(entry); ok {
			how = fmt.Sprintf(" (transit key version %d)", v)
		}
	}
	return s.saveSealed(logf, "AddHSM: sealed the root encryption key for %s%s", op.Name, how)
}

// removeHSM deletes the entries of the HSM named op.Name. It refuses to
// leave the node without an entry of a working HSM (it could not start).
func (s *store) removeHSM(op writeOp, logf func(string, ...any)) error {
	ids := idsNamed(s.naming, op.Name, s.sealed.Names())
	if len(ids) == 0 && op.Replicated {
		return nil // applied by an earlier try whose answer was lost
	}
	if len(ids) == 0 {
		return &apiError{http.StatusNotFound, fmt.Sprintf("no sealed root encryption key entry for HSM %s", op.Name)}
	}
	left := false
	for _, h := range s.hsms {
		if _, ok := s.sealed.HSM[h.Name()]; ok && !slices.Contains(ids, h.Name()) {
			left = true
		}
	}
	if !left {
		return &apiError{http.StatusConflict, fmt.Sprintf("cannot remove HSM %s: no other working HSM has a sealed root encryption key entry on this node", op.Name)}
	}
	for _, id := range ids {
		delete(s.sealed.HSM, id)
		if !slices.Contains(s.sealed.Removed, id) {
			s.sealed.Removed = append(s.sealed.Removed, id)
		}
	}
	return s.saveSealed(logf, "RemoveHSM: removed the sealed root encryption key entry of %s", op.Name)
}

// saveSealed writes rek.json, logs and publishes the new entry list; s.mu is held.
func (s *store) saveSealed(logf func(string, ...any), format string, args ...any) error {
	if err := SaveSealed(s.volume, s.sealed); err != nil {
		return err
	}
	logf(format, args...)
	if s.onSealed != nil {
		s.onSealed(ReportNames(s.naming, s.sealed.Names()))
	}
	return nil
}

// undoable are the writes everywhere takes back when a peer missed them.
func undoable(kind string) bool { return kind == opCreateEnclave || kind == opCreateKey }

// undo removes what op created, if this node holds exactly that (same
// creation time): a create that did not reach every node is taken back on
// every node that has it. s.mu is held.
func (s *store) undo(op writeOp) error {
	switch op.Kind {
	case opCreateEnclave:
		if e, ok := s.db.Enclaves[op.Name]; ok && e.CreatedAt.Equal(op.At) {
			delete(s.db.Enclaves, op.Name)
			return s.saveDB()
		}
	case opCreateKey:
		id := op.Enclave + "/" + op.Name
		versions := s.db.Keys[id]
		if n := len(versions); n > 0 && versions[n-1].CreatedAt.Equal(op.At) {
			if n == 1 {
				delete(s.db.Keys, id)
			} else {
				s.db.Keys[id] = versions[:n-1]
			}
			return s.saveDB()
		}
	}
	return nil
}
