package mock

import (
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// entry is one served request in the journal. The journal holds many
// (10,000 by default), so an entry is kept lean for the garbage
// collector: the request packed into bytes, the id as bytes.
type entry struct {
	id       [16]byte
	at       time.Time
	clientIP string
	req      []byte // stub.Request.Pack
	// stub answered (nil: unmatched); also are the other stubs that
	// matched, in the order they would have won.
	stub   *stub.Stub
	also   []string
	served stub.Served
	size   int64
}

func newEntry(at time.Time, clientIP string, req *stub.Request, won *stub.Stub, also []string, served stub.Served) entry {
	return entry{
		id: newUUID(), at: at, clientIP: clientIP, req: req.Pack(), stub: won, also: also, served: served,
		size: int64(len(req.Body) + len(served.Body) + 512),
	}
}

// request is the request the entry recorded.
func (e *entry) request() *stub.Request { return stub.Unpack(e.req) }

// ID is the entry's id in WireMock's form, a UUID.
func (e *entry) ID() string { return formatUUID(e.id) }

// journal keeps the latest entries within a count and a byte bound; the
// oldest go first, and are counted. The entries are a ring, oldest at
// head, grown up to the count bound as needed.
type journal struct {
	mu         sync.Mutex
	ring       []entry
	head, n    int
	bytes      int64
	dropped    uint64
	maxEntries int
	maxBytes   int64
}

func newJournal(maxEntries int, maxBytes int64) *journal {
	return &journal{maxEntries: maxEntries, maxBytes: maxBytes}
}

// on is false when the journal is off (Options.JournalEntries -1).
func (j *journal) on() bool { return j.maxEntries != 0 }

func (j *journal) add(e entry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	// The newest entry stays even when it alone is over the byte bound.
	for j.n > 0 && (j.n >= j.maxEntries || j.bytes+e.size > j.maxBytes) {
		j.dropOldest()
	}
	if j.n == len(j.ring) {
		j.grow()
	}
	j.ring[(j.head+j.n)%len(j.ring)] = e
	j.n++
	j.bytes += e.size
}

func (j *journal) dropOldest() {
	old := &j.ring[j.head]
	j.bytes -= old.size
	*old = entry{} // let its bodies go
	j.head = (j.head + 1) % len(j.ring)
	j.n--
	j.dropped++
}

// grow doubles the ring, up to the count bound.
func (j *journal) grow() {
	ring := make([]entry, min(max(2*len(j.ring), 64), j.maxEntries))
	for i := range j.n {
		ring[i] = j.ring[(j.head+i)%len(j.ring)]
	}
	j.ring, j.head = ring, 0
}

// snapshot returns copies of the entries, newest first (as WireMock
// lists them).
func (j *journal) snapshot() []entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]entry, j.n)
	for i := range j.n {
		out[j.n-1-i] = j.ring[(j.head+i)%len(j.ring)]
	}
	return out
}

// find returns a copy of the entry with the id given as a UUID.
func (j *journal) find(id string) (entry, bool) {
	want, ok := parseUUID(id)
	if !ok {
		return entry{}, false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range j.n {
		if e := j.ring[(j.head+i)%len(j.ring)]; e.id == want {
			return e, true
		}
	}
	return entry{}, false
}

// remove deletes the entries drop picks.
func (j *journal) remove(drop func(*entry) bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	kept := make([]entry, 0, j.n)
	j.bytes = 0
	for i := range j.n {
		if e := &j.ring[(j.head+i)%len(j.ring)]; !drop(e) {
			kept = append(kept, *e)
			j.bytes += e.size
		}
	}
	j.ring, j.head, j.n = kept[:cap(kept)], 0, len(kept)
}

func (j *journal) reset() { j.remove(func(*entry) bool { return true }) }

// counts are the journal's figures for the status.
func (j *journal) counts() (entries int, bytes int64, dropped uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n, j.bytes, j.dropped
}
