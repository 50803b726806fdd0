package remote

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// appendMu serialises appends to known_hosts files within this process, so
// parallel first connections to new nodes do not interleave lines.
var appendMu sync.Mutex

// appendKnownHost records key for addr in file, unless an entry written
// meanwhile (by a parallel dial) already trusts it. It returns the line
// written, or "" when nothing had to be written. With hash (HashKnownHosts
// yes) the host name is written hashed, as ssh does.
func appendKnownHost(file, addr string, key ssh.PublicKey, hash bool) (string, error) {
	appendMu.Lock()
	defer appendMu.Unlock()
	if known, err := alreadyKnown(file, addr, key); err != nil || known {
		return "", err
	}
	f, err := openKnownHostsForAppend(file)
	if err != nil {
		return "", err
	}
	line := knownhosts.Line([]string{addr}, key)
	if hash {
		line = xknownhosts.HashHostname(knownhosts.Normalize(addr)) + " " + key.Type() + " " + base64.StdEncoding.EncodeToString(key.Marshal())
	}
	text := line + "\n"
	if needsNewline(file) {
		text = "\n" + text
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return line, f.Close()
}

// alreadyKnown re-reads file and reports whether key is now accepted for addr.
func alreadyKnown(file, addr string, key ssh.PublicKey) (bool, error) {
	db, err := knownhosts.NewDB(file)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return db.HostKeyCallback()(addr, &net.TCPAddr{}, key) == nil, nil
}

// needsNewline reports whether file ends without a newline, so a hand-edited
// last line is not glued to the one we append.
func needsNewline(file string) bool {
	data, err := os.ReadFile(file)
	return err == nil && len(data) > 0 && data[len(data)-1] != '\n'
}

// openKnownHostsForAppend opens (creating it and its directory when needed)
// the known_hosts file for appending.
func openKnownHostsForAppend(file string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}
