package node

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

// Overlays are the host directories a node sees through its own overlay.
var Overlays = []string{"etc", "var", "root", "home"}

// Files is everything a node's file system needs from the lab.
type Files struct {
	Spec          Spec
	Nodes         int
	Users         []User
	HSMKey        string // hsm:aes256:...
	AdminIdentity string // h1:...
	HostKeyPEM    []byte
	HostKeyPub    string
	ClientKey     string // authorized_keys line of DIR/id_ed25519
	CAPEM         []byte
	CertPEM       []byte
	KeyPEM        []byte
	K8sJWT        string // copied to /etc/minkms/k8s-token when set
	// Variant is the lab's choice of product behaviours (lab.yaml keys and,
	// for AdminDerived, a config.yaml without admin.identity).
	Variant standin.Variant
}

// Upper is the overlay upper directory of one of Overlays for a node.
func Upper(nodeDir, name string) string { return filepath.Join(nodeDir, name+"-upper") }

// work is the overlay work directory.
func work(nodeDir, name string) string { return filepath.Join(nodeDir, name+"-work") }

// Prepare creates a node's directories and writes its /etc, /var and /home
// contents into fresh overlay upper dirs before the node boots.
func Prepare(nodeDir string, f Files) error {
	if err := os.RemoveAll(nodeDir); err != nil {
		return fmt.Errorf("clean %s: %w", nodeDir, err)
	}
	if err := os.MkdirAll(nodeDir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", nodeDir, err)
	}
	for _, o := range Overlays {
		for _, d := range []string{Upper(nodeDir, o), work(nodeDir, o)} {
			if err := os.Mkdir(d, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", d, err)
			}
		}
		if err := copyAttrs("/"+o, Upper(nodeDir, o)); err != nil {
			return err
		}
	}
	etc, err := etcEntries(f)
	if err != nil {
		return err
	}
	trees := []struct {
		name    string
		entries []entry
	}{{"etc", etc}, {"var", varEntries(f)}, {"home", homeEntries(f)}, {"root", rootEntries()}}
	for _, t := range trees {
		if err := writeTree(Upper(nodeDir, t.name), "/"+t.name, t.entries); err != nil {
			return fmt.Errorf("%s /%s: %w", f.Spec.Name(), t.name, err)
		}
	}
	return nil
}

// copyAttrs gives an upper root dir the mode and owner of the host directory it covers.
func copyAttrs(lower, upper string) error {
	fi, err := os.Stat(lower)
	if err != nil {
		return fmt.Errorf("stat %s: %w", lower, err)
	}
	return os.Chmod(upper, fi.Mode().Perm()|fi.Mode()&os.ModeSticky)
}

func userByName(users []User, name string) User {
	for _, u := range users {
		if u.Name == name {
			return u
		}
	}
	panic("lab user missing: " + name)
}

func varEntries(f Files) []entry {
	svc := userByName(f.Users, "minkms-user")
	return []entry{dir("lib/minkms", 0o700, svc.UID, svc.UID)}
}

func homeEntries(f Files) []entry {
	var out []entry
	for _, name := range []string{"kmsadmin", "kmspw"} {
		u := userByName(f.Users, name)
		out = append(out, dir(strings.TrimPrefix(u.Home, "/home/"), 0o750, u.UID, u.UID))
	}
	return out
}

func etcEntries(f Files) ([]entry, error) {
	accounts, err := accountFiles(f.Users)
	if err != nil {
		return nil, err
	}
	hostCAs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return nil, fmt.Errorf("read host CA bundle: %w", err)
	}
	hosts, err := hostsFile(f)
	if err != nil {
		return nil, err
	}
	out := []entry{
		file("hostname", []byte(f.Spec.Name()+"\n"), 0o644),
		file("machine-id", []byte(machineID()+"\n"), 0o444),
		file("hosts", hosts, 0o644),
		file("ssl/certs/ca-certificates.crt", append(hostCAs, f.CAPEM...), 0o644),
	}
	for name, data := range accounts {
		mode := os.FileMode(0o644)
		if strings.Contains(name, "shadow") {
			mode = 0o640
		}
		out = append(out, owned(file(name, data, mode), 0, shadowGID(name)))
	}
	out = append(out, sshEntries(f)...)
	out = append(out, minkmsEntries(f)...)
	return append(out, systemdEntries()...), nil
}

// shadowGID keeps the host's group of /etc/shadow ("shadow"), so tools that
// rely on it keep working.
func shadowGID(name string) int {
	if !strings.Contains(name, "shadow") {
		return 0
	}
	if fi, err := os.Stat("/etc/" + name); err == nil {
		if st, ok := statT(fi); ok {
			return int(st.Gid)
		}
	}
	return 0
}

func hostsFile(f Files) ([]byte, error) {
	host, err := os.ReadFile("/etc/hosts")
	if err != nil {
		return nil, fmt.Errorf("read /etc/hosts: %w", err)
	}
	var b strings.Builder
	b.Write(host)
	b.WriteString("\n# kmslab\n" + HostAddr + " kmslab-host\n")
	for _, s := range Specs(f.Nodes) {
		fmt.Fprintf(&b, "%s %s\n", s.Address(), s.Name())
	}
	return []byte(b.String()), nil
}

func machineID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// rootEntries gives root on a node its own minimal shell start-up files, so
// an SSH session does not run the host's ~/.bashrc and ~/.profile (on this
// kind of machine they start pyenv, which costs tens of milliseconds per
// session and would be measured as kmsctl's time).
func rootEntries() []entry {
	rc := []byte("# root's shell start-up on a lab node (written by lab up)\n")
	return []entry{file(".bashrc", rc, 0o644), file(".profile", rc, 0o644)}
}
