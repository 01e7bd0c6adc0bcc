package poll

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder stands in for the test a helper fails: it keeps the failure
// instead of ending the goroutine.
type recorder struct {
	testing.TB
	failure string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failure = fmt.Sprintf(format, args...) }

func TestUntil(t *testing.T) {
	for _, tc := range []struct {
		name      string
		trueAfter int // calls before cond holds; -1 never
		opts      []Option
		want      string // the failure; "" for none
	}{
		{"holds at once", 0, nil, ""},
		{"holds after a few checks", 3, nil, ""},
		{"never holds", -1, []Option{Within(30 * time.Millisecond)}, "timed out after 30ms waiting for the thing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			calls := 0
			start := time.Now()
			Until(r, "the thing", func() bool {
				calls++
				return tc.trueAfter >= 0 && calls > tc.trueAfter
			}, tc.opts...)
			if r.failure != tc.want {
				t.Fatalf("failure %q, want %q", r.failure, tc.want)
			}
			if tc.want == "" && calls != tc.trueAfter+1 {
				t.Errorf("%d checks, want %d: Until goes on after the condition held", calls, tc.trueAfter+1)
			}
			if tc.want != "" && time.Since(start) < 30*time.Millisecond {
				t.Errorf("gave up after %v, before its 30ms", time.Since(start))
			}
		})
	}
}

func TestUntilNilReportsTheLastError(t *testing.T) {
	r := &recorder{TB: t}
	n := 0
	UntilNil(r, "progress to reach 1000", func() error {
		n++
		return fmt.Errorf("progress %d", n)
	}, Within(20*time.Millisecond))
	want := fmt.Sprintf("timed out after 20ms waiting for progress to reach 1000: last: progress %d", n)
	if r.failure != want {
		t.Fatalf("failure %q, want %q", r.failure, want)
	}
	if n < 2 {
		t.Errorf("%d checks in 20ms; want it checked again after the first", n)
	}
}

func TestGetOK(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusServiceUnavailable)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(status.Load())) }))
	defer srv.Close()
	check := GetOK(srv.URL + "/readyz")
	if err := check(); err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("503: %v, want an error naming the status", err)
	}
	status.Store(http.StatusOK)
	if err := check(); err != nil {
		t.Fatalf("200: %v", err)
	}
	srv.Close()
	if err := check(); err == nil {
		t.Fatal("a closed server: no error")
	}
}
