package standin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// Command ids of the SDK (kms-go kms/cmds/command.go) that the stand-in serves.
const (
	CmdAddHSM        uint16 = 5
	CmdRemoveHSM     uint16 = 6
	CmdEnclaveCreate uint16 = 101
	CmdEnclaveStatus uint16 = 103
	CmdKeyCreate     uint16 = 201
	CmdKeyStatus     uint16 = 204
	CmdKeyEncrypt    uint16 = 205
	CmdKeyDecrypt    uint16 = 206
	CmdKeyGenerate   uint16 = 207
	CmdKeyList       uint16 = 208
)

// Key types of CreateKeyRequest.Type (kms-go SecretKeyType strings).
const (
	keyAES256   = "AES256"
	keyChaCha20 = "ChaCha20"
)

// writeCommand turns a write command into the cluster write it stands for.
func writeCommand(cmd Command, enclave string) (writeOp, error) {
	f, err := decodeFields(cmd.Msg)
	if err != nil {
		return writeOp{}, badRequest("command %d: %v", cmd.ID, err)
	}
	op := writeOp{Name: f.str(1)}
	switch cmd.ID {
	case CmdAddHSM:
		op.Kind, op.Overwrite = opAddHSM, f.boolean(2)
	case CmdRemoveHSM:
		op.Kind = opRemoveHSM
	case CmdEnclaveCreate:
		op.Kind = opCreateEnclave
	case CmdKeyCreate:
		op.Kind, op.Enclave, op.Type, op.AddVersion = opCreateKey, enclave, f.str(2), f.boolean(3)
		if op.Type == "" {
			op.Type = keyAES256
		}
		if op.Type != keyAES256 && op.Type != keyChaCha20 {
			return op, badRequest("key type '%s' is not supported", op.Type)
		}
	}
	if op.Name == "" {
		return op, badRequest("command %d: a name is required", cmd.ID)
	}
	return op, nil
}

// read answers a read command from this node's database.
func (s *store) read(cmd Command, enclave string) ([]byte, error) {
	f, err := decodeFields(cmd.Msg)
	if err != nil {
		return nil, badRequest("command %d: %v", cmd.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cmd.ID == CmdEnclaveStatus {
		e, ok := s.db.Enclaves[f.str(1)]
		if !ok {
			return nil, errEnclaveNotFound
		}
		b := appendBytesField(nil, 1, []byte(f.str(1)))
		b = appendTimestamp(b, 2, e.CreatedAt)
		return appendBytesField(b, 3, []byte(e.CreatedBy)), nil
	}
	if _, ok := s.db.Enclaves[enclave]; !ok {
		return nil, errEnclaveNotFound
	}
	if cmd.ID == CmdKeyList {
		return s.list(enclave, f.str(1), f.str(2), int(f.uint(3))), nil
	}
	id := enclave + "/" + f.str(1)
	v, err := s.version(id, uint32(f.uint(2)))
	if err != nil {
		return nil, err
	}
	switch cmd.ID {
	case CmdKeyStatus:
		return appendKeyStatus(nil, f.str(1), v), nil
	case CmdKeyEncrypt:
		return s.encrypt(id, v, f.raw(3), f.raw(4))
	case CmdKeyDecrypt:
		return s.decrypt(id, f.raw(3), f.raw(4))
	case CmdKeyGenerate:
		return s.generate(id, v, f.raw(3), int(f.uint(4)))
	}
	return nil, badRequest("command %d is not supported by the lab stand-in", cmd.ID)
}

// version is the key's given version, or its latest for 0; s.mu is held.
func (s *store) version(id string, version uint32) (keyVersion, error) {
	versions := s.db.Keys[id]
	if len(versions) == 0 {
		return keyVersion{}, errKeyNotFound
	}
	if version == 0 {
		return versions[len(versions)-1], nil
	}
	if int(version) > len(versions) {
		return keyVersion{}, errKeyNotFound
	}
	return versions[version-1], nil
}

func appendKeyStatus(b []byte, name string, v keyVersion) []byte {
	b = appendBytesField(b, 1, []byte(name))
	b = appendUintField(b, 2, uint64(v.Version))
	b = appendBytesField(b, 3, []byte(v.Type))
	b = appendTimestamp(b, 4, v.CreatedAt)
	return appendBytesField(b, 5, []byte(v.CreatedBy))
}

// list is a ListKeysResponse: the latest version of each key named with
// prefix, from continueAt on, at most limit (0: 100), sorted by name.
func (s *store) list(enclave, prefix, continueAt string, limit int) []byte {
	if limit <= 0 {
		limit = 100
	}
	var names []string
	for id := range s.db.Keys {
		name, ok := strings.CutPrefix(id, enclave+"/")
		if ok && strings.HasPrefix(name, prefix) && name >= continueAt {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var b []byte
	for i, name := range names {
		if i == limit {
			return appendBytesField(b, 2, []byte(name))
		}
		versions := s.db.Keys[enclave+"/"+name]
		b = appendBytesField(b, 1, appendKeyStatus(nil, name, versions[len(versions)-1]))
	}
	return b
}

// keyAEAD is the cipher of one key version.
func (s *store) keyAEAD(id string, v keyVersion) (cipher.AEAD, error) {
	m, err := s.material(id, v)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", id, err)
	}
	if v.Type == keyChaCha20 {
		return chacha20poly1305.New(m)
	}
	block, err := aes.NewCipher(m)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal is a ciphertext of the lab's format: big-endian key version, nonce,
// AEAD ciphertext (the product's format is opaque to clients).
func (s *store) seal(id string, v keyVersion, plaintext, ad []byte) ([]byte, error) {
	aead, err := s.keyAEAD(id, v)
	if err != nil {
		return nil, err
	}
	out := binary.BigEndian.AppendUint32(nil, v.Version)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(append(out, nonce...), nonce, plaintext, ad), nil
}

func (s *store) encrypt(id string, v keyVersion, plaintext, ad []byte) ([]byte, error) {
	ct, err := s.seal(id, v, plaintext, ad)
	if err != nil {
		return nil, err
	}
	b := appendUintField(nil, 1, uint64(v.Version))
	return appendBytesField(b, 2, ct), nil
}

func (s *store) decrypt(id string, ciphertext, ad []byte) ([]byte, error) {
	if len(ciphertext) < 4 {
		return nil, errDecrypt
	}
	v, err := s.version(id, binary.BigEndian.Uint32(ciphertext))
	if err != nil || binary.BigEndian.Uint32(ciphertext) == 0 {
		return nil, errDecrypt
	}
	aead, err := s.keyAEAD(id, v)
	if err != nil {
		return nil, err
	}
	rest := ciphertext[4:]
	if len(rest) < aead.NonceSize() {
		return nil, errDecrypt
	}
	pt, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], ad)
	if err != nil {
		return nil, errDecrypt
	}
	return appendBytesField(nil, 1, pt), nil
}

// generate is a GenerateKeyResponse: a fresh data key (length bytes, default
// 32, at most 1024) and its ciphertext.
func (s *store) generate(id string, v keyVersion, ad []byte, length int) ([]byte, error) {
	if length == 0 {
		length = 32
	}
	if length > 1024 {
		return nil, badRequest("key length %d exceeds 1024 bytes", length)
	}
	dek := make([]byte, length)
	if _, err := rand.Read(dek); err != nil {
		return nil, err
	}
	ct, err := s.seal(id, v, dek, ad)
	if err != nil {
		return nil, err
	}
	b := appendUintField(nil, 1, uint64(v.Version))
	b = appendBytesField(b, 2, dek)
	return appendBytesField(b, 3, ct), nil
}
