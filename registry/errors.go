package registry

import (
	"errors"
	"fmt"
)

// Errors returned by every Store. Front-ends map them to their protocol's
// answers (a renew of an unknown instance becomes Eureka's 404, which makes
// the client register again).
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("revision conflict")
	ErrCompacted = errors.New("revision compacted")
	ErrInvalid   = errors.New("invalid")
	ErrClosed    = errors.New("store closed")
)

// CompactedError reports that a watch asked for history the store no longer
// keeps; the watcher must list again and watch from the listed revision.
type CompactedError struct {
	Requested int64 // the revision asked for
	Oldest    int64 // the oldest revision still retained
}

func (e *CompactedError) Error() string {
	return fmt.Sprintf("revision %d compacted: oldest retained is %d", e.Requested, e.Oldest)
}

// Unwrap makes errors.Is(err, ErrCompacted) true.
func (e *CompactedError) Unwrap() error { return ErrCompacted }

// ValidationError names the field that is wrong.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}
