package kmsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxErrorBody bounds how much of an error response is read, as the SDK does
// (5 KiB): an error message is short, a misbehaving server must not make
// kmsctl buffer megabytes.
const maxErrorBody = 5 << 10

// HTTPError is a non-200 answer of a node. It is typed so that health gates
// can tell "not ready yet" (503) from "not allowed" (403) without parsing
// strings.
type HTTPError struct {
	// Status is the HTTP status code, e.g. 503 from /v1/health/ready.
	Status int
	// Message is the server's error message, if it sent one.
	Message string
	// Path is the request path, so a message says which call failed.
	Path string
}

// Error returns e.g. `GET /v1/health/ready: 503 Service Unavailable: not ready`.
func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s: %d %s", e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// readHTTPError builds an HTTPError from resp. Following the SDK, the body is
// an ErrResponse message in protobuf (application/octet-stream) or JSON
// ({"message": "..."}), or else plain text.
func readHTTPError(resp *http.Response, path string) *HTTPError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &HTTPError{Status: resp.StatusCode, Path: path}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch ct {
	case contentTypeBinary:
		if msg, err := decodeStringField(body, fieldErrMessage); err == nil {
			e.Message = msg
			return e
		}
	case contentTypeJSON:
		var v struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &v) == nil {
			e.Message = v.Message
			return e
		}
	}
	e.Message = strings.TrimSpace(string(bytes.ToValidUTF8(body, []byte("?"))))
	return e
}
