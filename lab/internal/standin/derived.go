package standin

import (
	"context"
	"errors"
	"fmt"
)

// vaultKeyDeriver is a Vault (or OpenBao) HSM whose inter-node key and root
// key seed come from transit HMACs pinned to key version 1. The node derives
// them once and keeps them in rek.json sealed under the REK, so that a
// later retire (min_decryption_version > 1) never needs the old version at
// run time: the product's internal keys survive re-sealing, only the REK's
// sealing changes.
type vaultKeyDeriver interface {
	HSM
	deriveKeys(ctx context.Context) (inter, root []byte, err error)
	setKeys(inter, root []byte)
}

// bindDerivedKeys loads each Vault HSM's derived keys from u.Sealed, or
// derives them now and saves them sealed under the REK in volume.
func bindDerivedKeys(ctx context.Context, volume string, hsms []HSM, u *Unsealed) error {
	changed := false
	for _, h := range hsms {
		d, ok := h.(vaultKeyDeriver)
		if !ok {
			continue
		}
		fresh, err := bindOne(ctx, d, u)
		if err != nil {
			return err
		}
		changed = changed || fresh
	}
	if !changed {
		return nil
	}
	return SaveSealed(volume, u.Sealed)
}

// bindOne sets d's keys; fresh says they were derived (not loaded).
func bindOne(ctx context.Context, d vaultKeyDeriver, u *Unsealed) (bool, error) {
	if blob, ok := u.Sealed.Derived[d.Name()]; ok {
		plain, err := derivedOpen(u.REK, blob)
		if err != nil {
			return false, fmt.Errorf("%s: derived keys: %w", d.Name(), err)
		}
		d.setKeys(plain[:32], plain[32:])
		return false, nil
	}
	inter, root, err := d.deriveKeys(ctx)
	if err != nil {
		return false, err
	}
	blob, err := derivedSeal(u.REK, append(append([]byte{}, inter...), root...))
	if err != nil {
		return false, err
	}
	if u.Sealed.Derived == nil {
		u.Sealed.Derived = map[string]string{}
	}
	u.Sealed.Derived[d.Name()] = blob
	d.setKeys(inter, root)
	return true, nil
}

// rekSealer seals the derived keys under the REK with the local HSM's AEAD
// (one home for the cipher).
func rekSealer(rek []byte) *LocalHSM { return &LocalHSM{key: rek} }

func derivedSeal(rek, plain []byte) (string, error) {
	return rekSealer(rek).Seal(context.Background(), plain)
}

func derivedOpen(rek []byte, blob string) ([]byte, error) {
	plain, err := rekSealer(rek).Unseal(context.Background(), blob)
	if err != nil || len(plain) != 64 {
		return nil, errors.New("cannot open the entry with the REK")
	}
	return plain, nil
}
