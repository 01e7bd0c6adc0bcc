package chain

import (
	"errors"
	"net/http"
)

// Reasons a request ends without an upstream response. They appear in the
// X-Mesh-Error response header and in the errors metric.
const (
	ReasonUnknownService = "unknown_service"
	ReasonNoHealthy      = "no_healthy_upstream"
	ReasonConnect        = "connect_failure"
	ReasonReset          = "reset"
	ReasonTimeout        = "timeout"
	ReasonRateLimited    = "rate_limited"
	ReasonCircuitOpen    = "circuit_open"
	ReasonFaultAbort     = "fault_abort"
	ReasonCanceled       = "canceled"
	ReasonNoTransport    = "no_transport"
	ReasonPlugin         = "plugin"
	ReasonBadUpgrade     = "bad_upgrade"
	// ReasonH2CRefused: an HTTP/2 request whose upstream does not speak
	// HTTP/2 with prior knowledge (h2c), and that could not go over
	// HTTP/1.1 instead (gRPC needs HTTP/2; a body already partly sent
	// cannot go again).
	ReasonH2CRefused = "h2c_refused"
	// ReasonBodyTimeout: the caller did not send the request body it
	// declared within the listener's body read timeout (408).
	ReasonBodyTimeout = "body_timeout"
)

// Error is a request that ends inside the sidecar. Status is what the
// caller gets; Reason is a stable word for logs, headers and metrics.
type Error struct {
	Status int
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns err as an *Error, wrapping unknown errors as a 502.
func AsError(err error) *Error {
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	return &Error{Status: http.StatusBadGateway, Reason: ReasonConnect, Err: err}
}

// IsReason reports whether err is an *Error with the given reason.
func IsReason(err error, reason string) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.Reason == reason
}
