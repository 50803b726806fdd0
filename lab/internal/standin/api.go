package standin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"aead.dev/mtls"
)

// api serves the node's public HTTPS endpoints and the lab's inter-node ones.
type api struct {
	cluster *Cluster
	writer  *writer
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
	mux.HandleFunc("POST "+pathSubmit, a.writer.handleSubmit)
	mux.HandleFunc("POST "+pathApply, a.writer.handleApply)
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

// handleKMS serves the commands of POST /v1/kms/[ENCLAVE] in the documented
// framing: ClusterStatus, AddHSM, RemoveHSM and the enclave and key commands.
// All of them need the admin identity (the lab has no policies). Writes go
// through the cluster's write path; reads are served by this node once it is
// ready. The answer holds one frame per command that has a response message.
func (a *api) handleKMS(w http.ResponseWriter, r *http.Request) {
	if !a.isAdmin(r) {
		writeError(w, errPermission.code, errPermission.msg)
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
	if !a.cluster.active.Load() {
		writeError(w, http.StatusServiceUnavailable, "node is starting")
		return
	}
	enclave := strings.Trim(strings.TrimPrefix(r.URL.Path, "/v1/kms/"), "/")
	var out []byte
	for _, cmd := range cmds {
		msg, reply, err := a.command(r.Context(), cmd, enclave)
		if err != nil {
			ae := asAPIError(err)
			writeError(w, ae.code, ae.msg)
			return
		}
		if reply {
			out = append(out, Frame(cmd.ID, msg)...)
		}
	}
	writeBody(w, http.StatusOK, "application/octet-stream", out)
}

// command runs one command; reply says whether it answers with a message.
func (a *api) command(ctx context.Context, cmd Command, enclave string) ([]byte, bool, error) {
	switch cmd.ID {
	case CmdClusterStatus:
		return AppendClusterStatus(nil, a.cluster.Status()), true, nil
	case CmdAddHSM, CmdRemoveHSM, CmdEnclaveCreate, CmdKeyCreate:
		op, err := writeCommand(cmd, enclave)
		if err != nil {
			return nil, false, err
		}
		op.At, op.By = time.Now().UTC(), a.admin.String()
		return nil, false, a.writer.submit(ctx, op)
	case CmdEnclaveStatus, CmdKeyStatus, CmdKeyEncrypt, CmdKeyDecrypt, CmdKeyGenerate, CmdKeyList:
		if ok, why := a.cluster.Ready(false); !ok {
			return nil, false, &apiError{http.StatusServiceUnavailable, "node is not ready: " + why}
		}
		msg, err := a.writer.store.read(cmd, enclave)
		return msg, err == nil, err
	}
	return nil, false, &apiError{http.StatusNotImplemented, fmt.Sprintf("command %d not supported by the lab stand-in", cmd.ID)}
}
