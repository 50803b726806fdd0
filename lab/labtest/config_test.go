package labtest

import (
	"crypto/tls"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// readyInsecure is /v1/health/ready without verifying the certificate (a
// node without TLS settings serves a self-signed one).
func (l *lab) readyInsecure(node string) int {
	return l.readyWith(node, &tls.Config{InsecureSkipVerify: true})
}

// adminBlock is the node's admin block (empty in a derived-identity lab).
func adminBlock(cfg string) string {
	return regexp.MustCompile(`(?m)^admin:\n(  .*\n)+`).FindString(cfg)
}

// TestDocumentedConfigShapes: the config shapes the product documents start
// a real node: top-level heartbeat, the older flat tls block with a CA
// directory, no TLS settings at all (self-signed certificate), and an
// OpenBao block (talking to the lab's Vault); a misplaced key still fails
// the start naming its line.
func TestDocumentedConfigShapes(t *testing.T) {
	l := needLab(t)
	node := l.last()
	orig := l.mustExec(node, "cat", configFile)
	admin := adminBlock(orig)
	openbao := l.vaultBlock("openssf.openbao", l.approle("LAB_APPROLE_ID", "LAB_APPROLE_SECRET_FILE"))
	cases := []struct {
		name, config string
		ready        func() bool
		check        func(t *testing.T, l *lab, since time.Time)
	}{
		{"flat tls with ca directory and heartbeat", "version: v1\nheartbeat: 500ms\n" + admin +
			"tls:\n  key: /etc/minkms/tls/private.key\n  cert: /etc/minkms/tls/public.crt\n  ca: /etc/minkms/tls/ca.d\n",
			func() bool { return l.readyCode(node) == http.StatusOK }, nil},
		{"no tls settings", "version: v1\n" + admin, func() bool { return l.readyInsecure(node) == http.StatusOK },
			func(t *testing.T, l *lab, since time.Time) {
				if l.readyCode(node) != 0 {
					t.Error("a client verifying with the lab CA reached the self-signed node")
				}
				if j := l.journal(node, since); !strings.Contains(j, "self-signed certificate") {
					t.Errorf("journal:\n%s", j)
				}
			}},
		{"openbao sibling", orig + openbao, func() bool { return l.readyCode(node) == http.StatusOK },
			func(t *testing.T, l *lab, _ time.Time) {
				if e := l.hsmEntries(node); !slices.Contains(e, "openbao:transit/minkms-sealing-key") {
					t.Errorf("rek.json entries %v lack the OpenBao HSM", e)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &lab{t: t, dir: l.dir, state: l.state, env: l.env}
			l.guardNode(node, configFile, rekFile)
			l.mustExec(node, "install", "-d", "-m", "755", "/etc/minkms/tls/ca.d")
			l.mustExec(node, "cp", "/etc/minkms/tls/ca.crt", "/etc/minkms/tls/ca.d/lab.pem")
			l.writeNodeFile(node, configFile, "640", "root", "minkms-user", []byte(c.config))
			since := l.restart(node)
			eventually(t, 30*time.Second, node+" ready with "+c.name, c.ready)
			if c.check != nil {
				c.check(t, l, since)
			}
		})
	}
	t.Run("misplaced key", func(t *testing.T) {
		l := &lab{t: t, dir: l.dir, state: l.state, env: l.env}
		l.guardNode(node, configFile)
		l.writeNodeFile(node, configFile, "640", "root", "minkms-user", []byte(orig+"hsm:\n  openbao:\n    server: x\n"))
		since := l.restart(node)
		eventually(t, 15*time.Second, "journal naming the line", func() bool {
			return strings.Contains(l.journal(node, since), `unknown key "hsm.openbao"`)
		})
	})
}

// TestChaCha20LocalKey: a node whose MINIO_KMS_HSM_KEY is an hsm:chacha20:
// key (the same 32 bytes as the lab's key, so its inter-node key still
// matches) starts on a fresh volume and rejoins the cluster.
func TestChaCha20LocalKey(t *testing.T) {
	l := needLab(t)
	node := l.last()
	l.guardNode(node, envFile, rekFile)
	env := l.mustExec(node, "cat", envFile)
	chacha := strings.Replace(env, "MINIO_KMS_HSM_KEY=hsm:aes256:", "MINIO_KMS_HSM_KEY=hsm:chacha20:", 1)
	if chacha == env {
		t.Fatalf("no hsm:aes256: key in %s", envFile)
	}
	l.mustExec(node, "systemctl", "stop", "minkms")
	// a fresh REK cannot open the node's key database: set it aside
	l.mustExec(node, "sh", "-c", "[ ! -e "+dbFile+" ] || mv "+dbFile+" "+dbFile+".labtest")
	t.Cleanup(func() {
		_, _ = l.exec(node, "sh", "-c", "[ ! -e "+dbFile+".labtest ] || mv "+dbFile+".labtest "+dbFile)
	})
	l.mustExec(node, "rm", "-f", rekFile)
	l.writeNodeFile(node, envFile, "600", "root", "root", []byte(chacha))
	l.restart(node)
	eventually(t, 30*time.Second, node+" ready on a ChaCha20 key", func() bool { return l.readyCode(node) == http.StatusOK })
	if e := l.hsmEntries(node); !slices.Equal(e, []string{"local"}) {
		t.Errorf("rek.json entries %v", e)
	}
}
