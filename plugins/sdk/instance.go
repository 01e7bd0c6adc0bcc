package sdk

import (
	"context"
	"errors"
	"fmt"
)

// InstanceTransformer amends or rejects service instances: on registration
// through any registry API, and on every record the syncer copies.
type InstanceTransformer interface {
	// TransformInstance returns the instance to store (inst itself, changed
	// or not, is fine) or an error made with Reject to refuse it. Any other
	// error is a plugin failure, and the host's failure policy decides.
	TransformInstance(ctx context.Context, inst *Instance) (*Instance, error)
}

// InstanceTransformerFunc adapts a function to InstanceTransformer.
type InstanceTransformerFunc func(ctx context.Context, inst *Instance) (*Instance, error)

// TransformInstance calls f.
func (f InstanceTransformerFunc) TransformInstance(ctx context.Context, inst *Instance) (*Instance, error) {
	return f(ctx, inst)
}

// Instance is what a plugin sees of a registered service instance. Defaults
// are already filled in (namespace "public", group "DEFAULT_GROUP", status
// "UP", health "passing", weight 1).
type Instance struct {
	// ID, Service, Namespace and Group identify the instance; together with
	// Ephemeral and Origin they are read-only: a host refuses a result that
	// changes them.
	ID        string
	Service   string
	Namespace string
	Group     string

	Cluster       string
	Zone          string
	Host          string
	Port          int
	SecurePort    int
	SecureEnabled bool
	Scheme        string
	// Status is UP, DOWN, STARTING, OUT_OF_SERVICE or UNKNOWN.
	Status string
	// Health is passing, warning or critical.
	Health string
	// Weight is the share of traffic relative to other instances (default 1).
	Weight   float64
	Disabled bool

	Ephemeral bool
	Metadata  map[string]string
	Tags      []string
	// Labels are the labels the client set explicitly; the registry derives
	// more from metadata keys (version, canary, label.<k>) after the plugin ran.
	Labels map[string]string
	// Origin is the API or syncer the instance came from ("eureka",
	// "consul", "nacos", "control", "sync:<id>").
	Origin string
}

// RejectError is a plugin's refusal of an instance, carried to the host.
type RejectError struct {
	Reason string
}

func (e *RejectError) Error() string { return "rejected: " + e.Reason }

// Reject refuses an instance; the reason reaches the registering client.
func Reject(format string, args ...any) error {
	return &RejectError{Reason: fmt.Sprintf(format, args...)}
}

// IsReject reports whether err is (or wraps) a rejection, and returns it.
func IsReject(err error) (*RejectError, bool) {
	var r *RejectError
	ok := errors.As(err, &r)
	return r, ok
}
