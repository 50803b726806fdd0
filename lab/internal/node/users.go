package node

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// User is a lab account added to a node's /etc/passwd, group and shadow.
type User struct {
	Name  string
	UID   int
	Home  string
	Shell string
	// Hash is the shadow password field: "*" (no password, key login only) or a crypt hash.
	Hash string
}

// LabUsers picks free ids (the same on every node) for kmsadmin, kmspw and
// minkms-user, above every id the host already uses so nothing collides.
func LabUsers(kmspwHash string) ([]User, error) {
	base, err := freeIDBase()
	if err != nil {
		return nil, err
	}
	return []User{
		{Name: "kmsadmin", UID: base, Home: "/home/kmsadmin", Shell: "/bin/bash", Hash: "*"},
		{Name: "kmspw", UID: base + 1, Home: "/home/kmspw", Shell: "/bin/bash", Hash: kmspwHash},
		{Name: "minkms-user", UID: base + 2, Home: "/var/lib/minkms", Shell: "/usr/sbin/nologin", Hash: "!"},
	}, nil
}

// freeIDBase returns the first multiple of 100 at or above 2000 above every uid
// and gid below 60000 on the host.
func freeIDBase() (int, error) {
	maxID := 1999
	for _, f := range []string{"/etc/passwd", "/etc/group"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", f, err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Split(line, ":")
			if len(fields) < 3 {
				continue
			}
			if id, err := strconv.Atoi(fields[2]); err == nil && id < 60000 && id > maxID {
				maxID = id
			}
		}
	}
	return (maxID/100 + 1) * 100, nil
}

// HashPassword makes a SHA-512 crypt hash with openssl, the password passed on
// stdin so it never appears in argv.
func HashPassword(ctx context.Context, password string) (string, error) {
	out, err := output(ctx, []byte(password+"\n"), "openssl", "passwd", "-6", "-stdin")
	if err != nil {
		return "", fmt.Errorf("hash kmspw password: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// accountFiles returns the node's passwd, group, shadow and gshadow: the host's
// content plus the lab users (each with its own group).
func accountFiles(users []User) (map[string][]byte, error) {
	lines := map[string]func(User) string{
		"passwd":  func(u User) string { return fmt.Sprintf("%s:x:%d:%d::%s:%s", u.Name, u.UID, u.UID, u.Home, u.Shell) },
		"group":   func(u User) string { return fmt.Sprintf("%s:x:%d:", u.Name, u.UID) },
		"shadow":  func(u User) string { return fmt.Sprintf("%s:%s:20000:0:99999:7:::", u.Name, u.Hash) },
		"gshadow": func(u User) string { return fmt.Sprintf("%s:!::", u.Name) },
	}
	out := map[string][]byte{}
	for file, line := range lines {
		host, err := os.ReadFile("/etc/" + file)
		if err != nil {
			if file == "gshadow" {
				continue
			}
			return nil, fmt.Errorf("read /etc/%s: %w", file, err)
		}
		var b bytes.Buffer
		b.Write(withoutUsers(host, users))
		for _, u := range users {
			b.WriteString(line(u) + "\n")
		}
		out[file] = b.Bytes()
	}
	return out, nil
}

// withoutUsers drops lines for the lab's names, in case the host has them.
func withoutUsers(content []byte, users []User) []byte {
	var b bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(content))
	for sc.Scan() {
		line := sc.Text()
		skip := false
		for _, u := range users {
			if strings.HasPrefix(line, u.Name+":") {
				skip = true
			}
		}
		if !skip && line != "" {
			b.WriteString(line + "\n")
		}
	}
	return b.Bytes()
}
