package poll

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

const (
	// Timeout is how long Until and UntilNil wait unless told otherwise:
	// ample on a loaded machine shared with other tests under -race, and
	// still a bound.
	Timeout = 10 * time.Second
	// Interval is the pause between two checks.
	Interval = 5 * time.Millisecond
)

// Option changes how long a wait may last.
type Option func(*settings)

type settings struct {
	timeout time.Duration
}

// Within sets how long to wait, for a test that expects the change within
// a time of its own (a lease, a probe interval, an ejection).
func Within(d time.Duration) Option {
	return func(s *settings) { s.timeout = d }
}

// Until calls cond every Interval until it returns true; if Timeout (or
// the Within) passes first, it fails tb with what it waited for. cond
// runs on the test's goroutine, so it may use tb.
func Until(tb testing.TB, what string, cond func() bool, opts ...Option) {
	tb.Helper()
	UntilNil(tb, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	}, opts...)
}

// UntilNil calls check every Interval until it returns nil; if Timeout
// (or the Within) passes first, it fails tb with what it waited for and
// the last error check returned, which should say what it saw ("progress
// 2", "status 503").
func UntilNil(tb testing.TB, what string, check func() error, opts ...Option) {
	tb.Helper()
	s := settings{timeout: Timeout}
	for _, o := range opts {
		o(&s)
	}
	deadline := time.Now().Add(s.timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if errors.Is(err, errNotYet) {
				tb.Fatalf("timed out after %v waiting for %s", s.timeout, what)
			} else {
				tb.Fatalf("timed out after %v waiting for %s: last: %v", s.timeout, what, err)
			}
			return
		}
		time.Sleep(Interval)
	}
}

// errNotYet is Until's stand-in for a false condition: it has nothing
// more to say.
var errNotYet = errors.New("not yet")

// GetOK is a check for UntilNil that a server is up: a GET of url
// answered 200. Its error says what came instead.
func GetOK(url string) func() error {
	return func() error {
		resp, err := getClient.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
		}
		return nil
	}
}

// getClient bounds each GetOK, so that a server that accepts and never
// answers cannot hold the wait past its timeout for long.
var getClient = &http.Client{Timeout: 5 * time.Second}
