package mock

import (
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// entry is one served request in the journal.
type entry struct {
	id       string
	at       time.Time
	clientIP string
	req      *stub.Request
	// stub answered (nil: unmatched); also are the other stubs that
	// matched, in the order they would have won.
	stub   *stub.Stub
	also   []string
	served stub.Served
}

func (e *entry) size() int64 { return int64(len(e.req.Body) + len(e.served.Body) + 512) }

// journal keeps the latest entries within a count and a byte bound; the
// oldest go first, and are counted.
type journal struct {
	mu         sync.Mutex
	entries    []*entry // oldest first
	bytes      int64
	dropped    uint64
	maxEntries int
	maxBytes   int64
}

func newJournal(maxEntries int, maxBytes int64) *journal {
	return &journal{maxEntries: maxEntries, maxBytes: maxBytes}
}

func (j *journal) add(e *entry) {
	if j.maxEntries == 0 {
		return // the journal is off
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, e)
	j.bytes += e.size()
	drop := 0
	for len(j.entries)-drop > j.maxEntries || (j.bytes > j.maxBytes && len(j.entries)-drop > 1) {
		j.bytes -= j.entries[drop].size()
		drop++
	}
	if drop > 0 {
		clear(j.entries[:drop]) // let the dropped bodies go
		j.entries = j.entries[drop:]
		j.dropped += uint64(drop)
	}
}

// snapshot returns the entries, newest first (as WireMock lists them).
func (j *journal) snapshot() []*entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]*entry, len(j.entries))
	for i, e := range j.entries {
		out[len(out)-1-i] = e
	}
	return out
}

func (j *journal) find(id string) *entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, e := range j.entries {
		if e.id == id {
			return e
		}
	}
	return nil
}

// remove deletes the entries keep refuses.
func (j *journal) remove(drop func(*entry) bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	kept := j.entries[:0]
	j.bytes = 0
	for _, e := range j.entries {
		if !drop(e) {
			kept = append(kept, e)
			j.bytes += e.size()
		}
	}
	clear(j.entries[len(kept):])
	j.entries = kept
}

func (j *journal) reset() { j.remove(func(*entry) bool { return true }) }

// counts are the journal's figures for the status.
func (j *journal) counts() (entries int, bytes int64, dropped uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries), j.bytes, j.dropped
}
