package standin

import (
	"errors"
	"fmt"
	"net/http"
)

// apiError is an error answer: the HTTP status and the message the SDK's
// client turns into a kms.Error.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

// The SDK's error answers (kms-go error.go: status and message), so that a
// client's errors.Is(err, kms.ErrKeyExists) holds against the lab.
var (
	errPermission      = &apiError{http.StatusForbidden, "access denied: insufficient permissions"}
	errEnclaveExists   = &apiError{http.StatusConflict, "enclave already exists"}
	errEnclaveNotFound = &apiError{http.StatusNotFound, "enclave does not exist"}
	errKeyExists       = &apiError{http.StatusConflict, "key already exists"}
	errKeyNotFound     = &apiError{http.StatusNotFound, "key does not exist"}
	errDecrypt         = &apiError{http.StatusBadRequest, "invalid ciphertext"}
	// errNotAllNodes answers a write while a node is down. The SDK has no
	// constant for it; the status and text are the lab's (UNCONFIRMED).
	errNotAllNodes = &apiError{http.StatusServiceUnavailable, "cluster write refused: not every node is up"}
)

// badRequest is a 400 answer.
func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// asAPIError turns any error into an answer (500 unless it is an apiError).
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return &apiError{http.StatusInternalServerError, err.Error()}
}
