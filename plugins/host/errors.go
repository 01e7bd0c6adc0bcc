package host

import (
	"errors"
	"fmt"

	"github.com/meshbridge/meshbridge/registry"
)

// Why a plugin call failed. Call errors wrap one of these; the plugin's
// failure policy applies to all three.
var (
	// ErrUnavailable: the plugin is not running (starting, crashed,
	// restarting, or the host is closing).
	ErrUnavailable = errors.New("plugin unavailable")
	// ErrTimeout: the plugin did not answer within its timeout.
	ErrTimeout = errors.New("plugin call timed out")
	// ErrFailed: the plugin answered with an error or with a result that
	// breaks the protocol's rules.
	ErrFailed = errors.New("plugin call failed")
)

// ErrRequestBody: the request body could not be read for a plugin that
// asked for it (the client's fault: answer 400).
var ErrRequestBody = errors.New("read request body")

// CallError reports a failed plugin call.
type CallError struct {
	Plugin string
	Call   string // "request", "response" or "transform"
	Err    error  // wraps ErrUnavailable, ErrTimeout or ErrFailed
}

func (e *CallError) Error() string {
	return fmt.Sprintf("plugin %q %s: %v", e.Plugin, e.Call, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }

// RejectedError reports that an instance transformer refused an instance.
// It wraps registry.ErrInvalid, so every registry API answers it as the
// client's bad input (Eureka 400, Consul 400, Nacos 400 with the reason).
type RejectedError struct {
	Plugin string
	Reason string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("rejected by plugin %q: %s", e.Plugin, e.Reason)
}

// Unwrap makes errors.Is(err, registry.ErrInvalid) true.
func (e *RejectedError) Unwrap() error { return registry.ErrInvalid }
