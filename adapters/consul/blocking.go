package consul

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Blocking query bounds, Consul's defaults.
const (
	defaultWait    = 5 * time.Minute
	maxWait        = 10 * time.Minute
	jitterFraction = 16
)

// queryOptions are the blocking parameters of a read.
type queryOptions struct {
	index uint64
	wait  time.Duration
}

// parseQuery reads ?index and ?wait with Consul's error answers.
func parseQuery(r *http.Request) (queryOptions, error) {
	q := query(r)
	var o queryOptions
	if wait := q.Get("wait"); wait != "" {
		d, err := time.ParseDuration(wait)
		if err != nil {
			return o, errorf(http.StatusBadRequest, "Invalid wait time")
		}
		o.wait = d
	}
	if idx := q.Get("index"); idx != "" {
		n, err := strconv.ParseUint(idx, 10, 64)
		if err != nil {
			return o, errorf(http.StatusBadRequest, "Invalid index")
		}
		o.index = n
	}
	return o, nil
}

// timeout is how long a blocking query may hold: wait (default 5 min,
// capped at 10 min) plus a random jitter of up to wait/16, so that many
// clients that started together do not return together.
func (o queryOptions) timeout() time.Duration {
	d := o.wait
	if d <= 0 {
		d = defaultWait
	}
	d = min(d, maxWait)
	return d + rand.N(d/jitterFraction+1)
}

// readResult is one answer of a read endpoint.
type readResult struct {
	body    any    // JSON-encoded; nil writes no body
	encoded []byte // body already encoded (by the read cache)
	raw     []byte // written as is when rawOK
	rawOK   bool
	status  int // 0 means 200
	index   int64
	// cacheHit: the answer was computed for an earlier reader and is
	// still current (?cached reports it as X-Cache: HIT).
	cacheHit bool
}

// readFunc computes a read's answer. It must take its wake channel from
// the notifier before reading the store, so no change can slip between.
type readFunc func() (readResult, <-chan struct{}, error)

// serveRead runs a read as a Consul blocking query: it answers at once
// without ?index (or when the result's index is already past it) and
// otherwise waits until the index moves or the wait ends, then answers
// with the current result. X-Consul-Index is never 0.
func (s *Server) serveRead(w http.ResponseWriter, r *http.Request, read readFunc) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	// Without Run nothing would invalidate a cached answer: read fresh.
	if s.running.Load() {
		key := cacheKey(r)
		uncached := read
		read = func() (readResult, <-chan struct{}, error) { return s.cache.get(key, uncached) }
	}
	res, wake, err := read()
	if err != nil {
		return err
	}
	if q.index > 0 && uint64(res.index) <= q.index && s.running.Load() {
		timer := time.NewTimer(q.timeout())
		defer timer.Stop()
		s.blocked.Add(1)
		defer s.blocked.Add(-1)
	wait:
		for uint64(res.index) <= q.index {
			select {
			case <-wake:
			case <-timer.C:
				res, _, err = read()
				if err != nil {
					return err
				}
				break wait
			case <-r.Context().Done():
				return r.Context().Err()
			case <-s.stopped:
				break wait
			}
			if res, wake, err = read(); err != nil {
				return err
			}
		}
	}
	s.writeRead(w, r, res)
	return nil
}

// writeRead writes a read's answer with Consul's query metadata headers.
func (s *Server) writeRead(w http.ResponseWriter, r *http.Request, res readResult) {
	h := w.Header()
	h.Set("X-Consul-Index", strconv.FormatInt(max(res.index, 1), 10))
	h.Set("X-Consul-KnownLeader", "true")
	h.Set("X-Consul-LastContact", "0")
	q := query(r)
	consistency := "leader"
	if _, ok := q["stale"]; ok {
		consistency = "stale"
	} else if _, ok := q["consistent"]; ok {
		consistency = "consistent"
	}
	h.Set("X-Consul-Effective-Consistency", consistency)
	if _, ok := q["cached"]; ok {
		// The read cache is invalidated by every change, so a hit is
		// never stale: its Age is 0.
		if res.cacheHit {
			h.Set("X-Cache", "HIT")
			h.Set("Age", "0")
		} else {
			h.Set("X-Cache", "MISS")
		}
	}
	status := res.status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case res.rawOK:
		h.Set("Content-Type", "text/plain")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "sandbox")
		h.Set("Content-Length", strconv.Itoa(len(res.raw)))
		w.WriteHeader(status)
		_, _ = w.Write(res.raw) // a vanished client is not an error to report
	case res.encoded != nil:
		h.Set("Content-Type", "application/json")
		// A known length lets net/http send the answer in one write
		// instead of chunks; it matters when a thousand wake together.
		h.Set("Content-Length", strconv.Itoa(len(res.encoded)))
		w.WriteHeader(status)
		_, _ = w.Write(res.encoded) // a vanished client is not an error to report
	case res.body == nil:
		h.Set("Content-Type", plainContentType)
		w.WriteHeader(status)
	default:
		writeJSON(w, status, res.body)
	}
}
