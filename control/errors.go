package control

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
)

// Error codes of the control API; stable, part of the API.
const (
	CodeInvalid          = "invalid"
	CodeUnauthorized     = "unauthorized"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeCompacted        = "compacted"
	CodeTooLarge         = "too_large"
	CodeTimeout          = "timeout"
	CodeInternal         = "internal"
	CodeUnavailable      = "unavailable"
)

// ErrorBody is the shape of every error the control API returns.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		// Field names the offending field for invalid input.
		Field string `json:"field,omitempty"`
	} `json:"error"`
}

// errTooLarge marks a request body over the limit.
var errTooLarge = errors.New("request body too large")

// statusFor maps an error to an HTTP status and code.
func statusFor(err error) (int, string) {
	var mbe *http.MaxBytesError
	var bte *serve.BodyTimeoutError
	switch {
	case errors.As(err, &mbe), errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, CodeTooLarge
	case errors.As(err, &bte):
		return http.StatusRequestTimeout, CodeTimeout
	case errors.Is(err, registry.ErrInvalid), errors.Is(err, ErrUnknownKind):
		return http.StatusBadRequest, CodeInvalid
	case errors.Is(err, registry.ErrNotFound):
		return http.StatusNotFound, CodeNotFound
	case errors.Is(err, registry.ErrConflict):
		return http.StatusConflict, CodeConflict
	case errors.Is(err, registry.ErrCompacted):
		return http.StatusGone, CodeCompacted
	case errors.Is(err, registry.ErrClosed):
		return http.StatusServiceUnavailable, CodeUnavailable
	}
	return http.StatusInternalServerError, CodeInternal
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	var body ErrorBody
	body.Error.Code, body.Error.Message, body.Error.Field = code, msg, field
	writeJSON(w, status, body)
}

func writeErr(w http.ResponseWriter, err error) {
	status, code := statusFor(err)
	var field string
	var ve *registry.ValidationError
	if errors.As(err, &ve) {
		field = ve.Field
	}
	writeError(w, status, code, err.Error(), field)
}

// writeResult answers v, or the error when there is one.
func writeResult(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

// errorFromBody turns an error response into an error wrapping the matching
// registry sentinel, so client callers use errors.Is as with a local store.
func errorFromBody(status int, body ErrorBody) error {
	msg := body.Error.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	var sentinel error
	switch body.Error.Code {
	case CodeInvalid:
		sentinel = registry.ErrInvalid
	case CodeNotFound:
		sentinel = registry.ErrNotFound
	case CodeConflict:
		sentinel = registry.ErrConflict
	case CodeCompacted:
		sentinel = registry.ErrCompacted
	case CodeUnavailable:
		sentinel = registry.ErrClosed
	case CodeUnauthorized:
		sentinel = ErrUnauthorized
	}
	if sentinel == nil {
		return &StatusError{Status: status, Code: body.Error.Code, Message: msg}
	}
	return &StatusError{Status: status, Code: body.Error.Code, Message: msg, err: sentinel}
}

// ErrUnauthorized is returned when the control API refused a missing or wrong token.
var ErrUnauthorized = errors.New("unauthorized")

// StatusError is an error answer of the control API.
type StatusError struct {
	Status  int
	Code    string
	Message string
	err     error
}

func (e *StatusError) Error() string { return "control: " + e.Message }

// Unwrap gives the registry sentinel matching the code.
func (e *StatusError) Unwrap() error { return e.err }
