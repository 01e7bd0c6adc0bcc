package consul

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
)

// Bounds of the read cache; past either it starts over.
const (
	maxCachedReads = 4096
	maxCachedBytes = 64 << 20
)

// readCache shares one computed answer among the readers of the same query
// until the data behind it changes. When a change wakes a thousand
// blocking watchers of one service, one of them lists and encodes, and the
// others write the same bytes.
//
// An answer computed after taking wake channel W stays current while W is
// open: every later change to its topic closes W.
type readCache struct {
	mu      sync.Mutex
	entries map[string]*cachedRead
	bytes   int // encoded bytes held, roughly
}

type cachedRead struct {
	done chan struct{} // closed when res and err are set
	res  readResult
	wake <-chan struct{}
	err  error
}

func newReadCache() *readCache { return &readCache{entries: map[string]*cachedRead{}} }

// cacheKey identifies a query by its path and the parameters that shape
// its answer (not the blocking parameters or the token).
func cacheKey(r *http.Request) string {
	q := url.Values{}
	for k, v := range query(r) {
		switch k {
		case "index", "wait", "token", "hash", "cached":
		default:
			q[k] = v
		}
	}
	return r.URL.Path + "?" + q.Encode()
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// get returns the current answer for key, computing it once for everyone
// who asks at the same time.
func (c *readCache) get(key string, read readFunc) (readResult, <-chan struct{}, error) {
	for {
		c.mu.Lock()
		e := c.entries[key]
		if e != nil {
			c.mu.Unlock()
			<-e.done
			if e.err == nil && e.wake != nil && !closed(e.wake) {
				res := e.res
				res.cacheHit = true
				return res, e.wake, nil
			}
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key)
			}
			c.mu.Unlock()
			if e.err != nil {
				return readResult{}, nil, e.err
			}
			continue
		}
		if len(c.entries) >= maxCachedReads || c.bytes >= maxCachedBytes {
			clear(c.entries)
			c.bytes = 0
		}
		e = &cachedRead{done: make(chan struct{})}
		c.entries[key] = e
		c.mu.Unlock()
		e.res, e.wake, e.err = encodeRead(read)
		close(e.done)
		c.mu.Lock()
		if e.err != nil && c.entries[key] == e {
			delete(c.entries, key)
		}
		c.bytes += len(e.res.encoded) + len(e.res.raw)
		c.mu.Unlock()
		return e.res, e.wake, e.err
	}
}

// encodeRead runs read and encodes its body once.
func encodeRead(read readFunc) (readResult, <-chan struct{}, error) {
	res, wake, err := read()
	if err != nil {
		return res, wake, err
	}
	if res.body != nil {
		b, err := json.Marshal(res.body)
		if err != nil {
			return readResult{}, nil, err
		}
		res.encoded, res.body = b, nil
	}
	return res, wake, nil
}
