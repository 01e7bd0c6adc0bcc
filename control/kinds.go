package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/meshbridge/meshbridge/internal/kinds"
	"io"
	"strings"

	"github.com/meshbridge/meshbridge/registry"
)

// Spec is implemented by every resource kind's spec type.
type Spec interface {
	// Validate checks the spec; errors name the field ("spec.match.headers[0].name: ...").
	Validate() error
	// TargetService is the service the resource applies to ("" if none).
	TargetService() string
}

// Kind describes one resource kind.
type Kind struct {
	// Name is the kind as written in resources ("CanaryRule").
	Name string
	// New returns an empty spec to decode into.
	New func() Spec
}

var registered = kinds.New[Kind]("control: resource kind")

// RegisterKind adds a kind. An empty or duplicate name panics: kinds are
// registered at init and a clash is a programming error.
func RegisterKind(k Kind) {
	if k.New == nil {
		panic("control: kind " + k.Name + " needs a constructor")
	}
	registered.Register(k.Name, k)
}

// LookupKind returns a registered kind.
func LookupKind(name string) (Kind, bool) { return registered.Lookup(name) }

// Kinds lists the registered kind names, sorted.
func Kinds() []string { return registered.Names() }

// ErrUnknownKind is returned for a kind nobody registered.
var ErrUnknownKind = errors.New("unknown resource kind")

// DecodeSpec strictly decodes raw into the kind's spec and validates it.
// Unknown fields are errors that name the field.
func DecodeSpec(kind string, raw json.RawMessage) (Spec, error) {
	k, ok := LookupKind(kind)
	if !ok {
		return nil, fmt.Errorf("kind %q: %w (known: %s)", kind, ErrUnknownKind, strings.Join(Kinds(), ", "))
	}
	spec := k.New()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(spec); err != nil {
		return nil, &registry.ValidationError{Field: "spec", Message: decodeMessage(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &registry.ValidationError{Field: "spec", Message: "trailing data after the spec"}
	}
	if err := spec.Validate(); err != nil {
		var ve *registry.ValidationError
		if errors.As(err, &ve) {
			return nil, &registry.ValidationError{Field: "spec." + ve.Field, Message: ve.Message}
		}
		return nil, &registry.ValidationError{Field: "spec", Message: err.Error()}
	}
	return spec, nil
}

// DecodeResource decodes the spec of a stored resource into its typed form.
func DecodeResource[T Spec](r *registry.Resource) (T, error) {
	var zero T
	spec, err := DecodeSpec(r.Kind, r.Spec)
	if err != nil {
		return zero, fmt.Errorf("%s/%s: %w", r.Kind, r.Name, err)
	}
	t, ok := spec.(T)
	if !ok {
		return zero, fmt.Errorf("%s/%s: spec is %T", r.Kind, r.Name, spec)
	}
	return t, nil
}

func decodeMessage(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) && ute.Field != "" {
		return fmt.Sprintf("field %s: expected %s, got %s", ute.Field, ute.Type, ute.Value)
	}
	// encoding/json says `json: unknown field "x"`; keep it, minus the prefix.
	return strings.TrimPrefix(err.Error(), "json: ")
}

func fieldErr(field, format string, args ...any) error {
	return &registry.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}
