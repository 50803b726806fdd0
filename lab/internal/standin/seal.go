package standin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// rekFile is the name of the sealed root encryption key file in the volume.
const rekFile = "rek.json"

// Sealed is the content of VOLUME/rek.json: HSM id -> sealed REK, and the
// ids whose entry RemoveHSM deleted (a start does not seal for them again
// unless the lab setting restart_recreates_removed says so).
type Sealed struct {
	HSM     map[string]string `json:"hsm"`
	Removed []string          `json:"removed,omitempty"`
	// Derived is HSM id -> the Vault HSM's inter-node key and root key
	// seed, sealed under the REK (see bindDerivedKeys).
	Derived map[string]string `json:"derived,omitempty"`
}

// Names returns the HSM names that have an entry, sorted.
func (s *Sealed) Names() []string { return slices.Sorted(maps.Keys(s.HSM)) }

// LoadSealed reads VOLUME/rek.json; ok is false when the volume is empty.
func LoadSealed(volume string) (s *Sealed, ok bool, err error) {
	data, err := os.ReadFile(filepath.Join(volume, rekFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &Sealed{HSM: map[string]string{}}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read sealed key: %w", err)
	}
	s = &Sealed{}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, false, fmt.Errorf("%s: %w", filepath.Join(volume, rekFile), err)
	}
	if s.HSM == nil {
		s.HSM = map[string]string{}
	}
	return s, true, nil
}

// SaveSealed writes VOLUME/rek.json atomically (temp file, fsync, rename).
func SaveSealed(volume string, s *Sealed) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode sealed key: %w", err)
	}
	if err := writeAtomic(volume, rekFile, append(data, '\n')); err != nil {
		return fmt.Errorf("write sealed key: %w", err)
	}
	return nil
}

// writeAtomic writes VOLUME/name through a temp file in the volume, fsync
// and rename, then syncs the directory.
func writeAtomic(volume, name string, data []byte) error {
	if err := os.MkdirAll(volume, 0o700); err != nil {
		return fmt.Errorf("volume: %w", err)
	}
	tmp, err := os.CreateTemp(volume, "."+name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(volume, name)); err != nil {
		return err
	}
	if dir, err := os.Open(volume); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

// Unsealed is the outcome of a successful start-up unseal.
type Unsealed struct {
	REK    []byte
	By     string  // HSM that unsealed the REK ("" when generated)
	Sealed *Sealed // rek.json after adding entries for new HSMs
}

// SealPolicy is how a start treats HSMs without an entry.
type SealPolicy struct {
	// Tolerant (unseal: any): an HSM that cannot seal is logged and gets
	// no entry instead of failing the start.
	Tolerant bool
	// RecreateRemoved: seal again for an HSM whose entry RemoveHSM deleted.
	RecreateRemoved bool
}

// Unseal is UnsealWith under the strict policy (unseal: all).
func Unseal(ctx context.Context, volume string, hsms []HSM, logf func(string, ...any)) (*Unsealed, error) {
	return UnsealWith(ctx, volume, hsms, SealPolicy{}, logf)
}

// UnsealWith opens the REK with the first HSM that has an entry (each
// failure is logged), or generates a REK on an empty volume, then seals it for
// every HSM that lacks an entry, except those RemoveHSM removed unless the
// policy re-creates them. Entries of HSMs no longer configured are kept.
func UnsealWith(ctx context.Context, volume string, hsms []HSM, p SealPolicy, logf func(string, ...any)) (*Unsealed, error) {
	if len(hsms) == 0 {
		return nil, fmt.Errorf("no HSM configured: %s is not set and the config has no Vault block", LocalKeyEnv)
	}
	sealed, exists, err := LoadSealed(volume)
	if err != nil {
		return nil, err
	}
	u := &Unsealed{Sealed: sealed}
	if exists {
		if u.REK, u.By, err = open(ctx, sealed, hsms, logf); err != nil {
			return nil, err
		}
	} else {
		u.REK = make([]byte, 32)
		if _, err := rand.Read(u.REK); err != nil {
			return nil, fmt.Errorf("generate root encryption key: %w", err)
		}
		logf("empty volume %s: generated a new root encryption key", volume)
	}
	if err := sealMissing(ctx, volume, u, hsms, p, logf); err != nil {
		return nil, err
	}
	return u, nil
}

func open(ctx context.Context, sealed *Sealed, hsms []HSM, logf func(string, ...any)) ([]byte, string, error) {
	var reasons []string
	for _, h := range hsms {
		entry, ok := sealed.HSM[h.Name()]
		if !ok {
			reasons = append(reasons, fmt.Sprintf("%s: no sealed root encryption key entry", h.Name()))
			continue
		}
		rek, err := h.Unseal(ctx, entry)
		if err != nil {
			logf("cannot unseal: %v", err)
			reasons = append(reasons, err.Error())
			continue
		}
		return rek, h.Name(), nil
	}
	return nil, "", fmt.Errorf("no configured HSM can unseal the root encryption key (entries: %s): %s",
		strings.Join(sealed.Names(), ", "), strings.Join(reasons, "; "))
}

func sealMissing(ctx context.Context, volume string, u *Unsealed, hsms []HSM, p SealPolicy, logf func(string, ...any)) error {
	var added []string
	for _, h := range hsms {
		if _, ok := u.Sealed.HSM[h.Name()]; ok {
			continue
		}
		if slices.Contains(u.Sealed.Removed, h.Name()) && !p.RecreateRemoved {
			logf("no sealed root encryption key for %s: its entry was removed with RemoveHSM (AddHSM re-creates it)", h.Name())
			continue
		}
		entry, err := h.Seal(ctx, u.REK)
		if err != nil && p.Tolerant {
			logf("cannot seal the root encryption key for %s, it gets no entry: %v", h.Name(), err)
			continue
		}
		if err != nil {
			return fmt.Errorf("seal root encryption key for %s: %w", h.Name(), err)
		}
		u.Sealed.HSM[h.Name()] = entry
		u.Sealed.Removed = slices.DeleteFunc(u.Sealed.Removed, func(id string) bool { return id == h.Name() })
		added = append(added, h.Name())
	}
	if len(added) == 0 {
		return nil
	}
	if err := SaveSealed(volume, u.Sealed); err != nil {
		return err
	}
	logf("sealed the root encryption key for %s", strings.Join(added, ", "))
	return nil
}
