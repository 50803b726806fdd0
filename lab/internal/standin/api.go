package standin

import (
	"encoding/json"
	"io"
	"net/http"

	"aead.dev/mtls"
)

// api serves the node's public HTTPS endpoints and the lab's inter-node ones.
type api struct {
	cluster *Cluster
	admin   mtls.Identity // admin.identity or the derived root API key's identity
	version string
	host    string
}

func (a *api) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /version", a.handleVersion)
	mux.HandleFunc("GET /v1/health/live", a.handleLive)
	mux.HandleFunc("GET /v1/health/ready", a.handleReady)
	mux.HandleFunc("POST /v1/kms/", a.handleKMS)
	mux.HandleFunc("POST "+pathHeartbeat, a.cluster.handleHeartbeat)
	mux.HandleFunc("POST "+pathVote, a.cluster.handleVote)
	return mux
}

// handleVersion answers in the JSON form of kms-go's VersionResponse.
func (a *api) handleVersion(w http.ResponseWriter, _ *http.Request) {
	body, _ := json.Marshal(map[string]string{"version": a.version, "api_version": "v1", "host": a.host})
	writeBody(w, http.StatusOK, "application/json", body)
}

func (a *api) handleLive(w http.ResponseWriter, _ *http.Request) {
	writeBody(w, http.StatusOK, "text/plain", nil)
}

// handleReady is 200 only when the node is in a quorum with a leader; with
// ?write every node must be up.
func (a *api) handleReady(w http.ResponseWriter, r *http.Request) {
	ok, why := a.cluster.Ready(r.URL.Query().Has("write"))
	if !ok {
		writeError(w, http.StatusServiceUnavailable, why)
		return
	}
	writeBody(w, http.StatusOK, "text/plain", nil)
}

// isAdmin reports whether the client certificate's identity (aead.dev/mtls:
// h1: hash of the public key) is the configured admin identity.
func (a *api) isAdmin(r *http.Request) bool {
	if a.admin.IsZero() || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return false
	}
	return mtls.CertificateIdentity(r.TLS.PeerCertificates[0]) == a.admin
}

// handleKMS serves admin commands in the documented framing; only
// ClusterStatus is implemented.
func (a *api) handleKMS(w http.ResponseWriter, r *http.Request) {
	if !a.isAdmin(r) {
		writeError(w, http.StatusForbidden, "access denied: insufficient permissions")
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body")
		return
	}
	cmds, err := ParseCommands(data)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var out []byte
	for _, cmd := range cmds {
		if cmd.ID != CmdClusterStatus {
			writeError(w, http.StatusNotImplemented, "command not supported by the lab stand-in")
			return
		}
		if !a.cluster.active.Load() {
			writeError(w, http.StatusServiceUnavailable, "node is starting")
			return
		}
		out = append(out, Frame(CmdClusterStatus, AppendClusterStatus(nil, a.cluster.Status()))...)
	}
	writeBody(w, http.StatusOK, "application/octet-stream", out)
}
