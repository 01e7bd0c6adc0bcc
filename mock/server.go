package mock

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/mock/load"
	"github.com/meshbridge/meshbridge/mock/stub"
)

// Server is the mock engine: a set of stubs, their scenarios' states and
// a journal of what was served, with an HTTP handler for the stubs
// (Handler) and one for WireMock's admin API (Admin).
type Server struct {
	opts      Options
	stubs     http.Handler
	current   atomic.Pointer[set]
	scenarios *scenarios
	journal   *journal

	// mu orders changes to the set; the request path reads current only.
	mu sync.Mutex
	// defaults are the stubs from files (the set reset goes back to);
	// admin are the stubs added or changed through the admin API, kept
	// across reloads.
	defaults []*placed
	admin    []*placed
	// removed are file stubs deleted through the admin API, until the
	// next reset or reload.
	removed  map[string]bool
	adminSeq int64

	// roots are the folders or files LoadFiles read, for Reload; bodies
	// is the first one's __files folder, for stubs the admin API adds.
	roots  []string
	bodies atomic.Pointer[fs.FS]
	status loadStatus
}

// loadStatus is what the last load of the files left.
type loadStatus struct {
	loadedAt time.Time
	files    int
	// lastError is the last reload that failed (its set was not taken);
	// cleared by a good one.
	lastError string
	failedAt  time.Time
	// fingerprint is the files' as the last load, good or bad, saw them.
	fingerprint string
}

// New returns a Server without stubs.
func New(opts Options) (*Server, error) {
	opts = opts.withDefaults()
	s := &Server{opts: opts, scenarios: newScenarios(), journal: newJournal(opts.JournalEntries, opts.JournalBytes), removed: map[string]bool{}}
	s.current.Store(newSet(nil))
	var h http.Handler = http.HandlerFunc(s.serveStub)
	for i := len(opts.Middleware) - 1; i >= 0; i-- {
		var err error
		if h, err = opts.Middleware[i](h); err != nil {
			return nil, fmt.Errorf("mock: middleware %d: %w", i, err)
		}
	}
	s.stubs = h
	return s, nil
}

// Handler serves the stubs (behind the middleware).
func (s *Server) Handler() http.Handler { return s.stubs }

// LoadFiles loads the stub files under roots (see package load) as the
// default set, replacing the stubs from files loaded before and keeping
// those added through the admin API. A bad file is an error and changes
// nothing; so is, in strict mode, a stub an equal one shadows. Reload
// reads the same roots again.
func (s *Server) LoadFiles(roots ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := load.Load(roots...)
	if err == nil {
		err = s.setDefaults(res)
	}
	if err != nil {
		return fmt.Errorf("mock: load: %w", err)
	}
	s.roots = slices.Clone(roots)
	return nil
}

// Reload reads the roots LoadFiles was given again. A failure keeps the
// stubs in use, is logged and shows on the admin API's status until a
// reload succeeds.
func (s *Server) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := load.Load(s.roots...)
	if err == nil {
		err = s.setDefaults(res)
	}
	if err != nil {
		s.status.lastError, s.status.failedAt = err.Error(), time.Now()
		s.opts.Logger.Error("stub files not reloaded; the last good set stays in use", "error", err)
		return fmt.Errorf("mock: reload: %w", err)
	}
	s.opts.Logger.Info("stub files reloaded", "stubs", len(res.Stubs), "files", res.Files)
	return nil
}

// setDefaults takes res as the stubs from files. Called with mu held.
func (s *Server) setDefaults(res *load.Result) error {
	defaults := make([]*placed, len(res.Stubs))
	for i, st := range res.Stubs {
		defaults[i] = &placed{stub: st.Stub, origin: originFile, source: st.File, seq: int64(i + 1)}
	}
	next, err := s.build(defaults, s.admin, map[string]bool{})
	if err != nil {
		return err
	}
	s.defaults, s.removed = defaults, map[string]bool{}
	s.bodies.Store(&res.Bodies)
	s.status = loadStatus{loadedAt: time.Now(), files: res.Files, fingerprint: res.Fingerprint}
	for _, w := range next.ambiguous {
		s.opts.Logger.Warn("ambiguous stubs", "detail", w)
	}
	s.current.Store(next)
	return nil
}

// build makes the set of defaults and admin stubs, admin stubs standing
// in for file stubs of the same id. An error leaves everything as it was.
func (s *Server) build(defaults, admin []*placed, removed map[string]bool) (*set, error) {
	adminIDs := make(map[string]bool, len(admin))
	for _, p := range admin {
		adminIDs[p.stub.ID()] = true
	}
	all := make([]*placed, 0, len(defaults)+len(admin))
	seen := map[string]string{}
	for _, p := range defaults {
		id := p.stub.ID()
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s: %w %q (also in %s)", p.source, errDuplicateID, id, prev)
		}
		seen[id] = p.source
		if !adminIDs[id] && !removed[id] {
			all = append(all, p)
		}
	}
	all = append(all, admin...)
	next := newSet(all)
	if s.opts.Strict && len(next.ambiguous) > 0 {
		return nil, errors.New(strings.Join(next.ambiguous, "; "))
	}
	return next, nil
}

// change applies an admin change: edit gets the admin stubs and the
// removed file stubs and returns them changed. Called with mu held.
func (s *Server) change(edit func(admin []*placed, removed map[string]bool) ([]*placed, map[string]bool, error)) error {
	admin, removed, err := edit(slices.Clone(s.admin), maps.Clone(s.removed))
	if err != nil {
		return err
	}
	next, err := s.build(s.defaults, admin, removed)
	if err != nil {
		return err
	}
	s.admin, s.removed = admin, removed
	s.current.Store(next)
	return nil
}

// resetMappings goes back to the stubs from files.
func (s *Server) resetMappings() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admin, s.removed = nil, map[string]bool{}
	next, err := s.build(s.defaults, nil, s.removed)
	if err != nil {
		next = newSet(s.defaults) // the defaults were accepted before; strictness cannot refuse them now
	}
	for _, st := range next.stubs() {
		st.ResetSequence()
	}
	s.current.Store(next)
}

// Reset goes back to the stubs from files, clears the journal and puts
// every scenario back to its first state (WireMock's /__admin/reset).
func (s *Server) Reset() {
	s.resetMappings()
	s.journal.reset()
	s.scenarios.reset()
}

// bodyFiles is the __files folder of the stubs from files (nil: none).
func (s *Server) bodyFiles() fs.FS {
	if b := s.bodies.Load(); b != nil {
		return *b
	}
	return nil
}

// Stubs lists the stubs in the order they are tried.
func (s *Server) Stubs() []*stub.Stub { return s.current.Load().stubs() }

// Status is what the admin API's status shows.
type Status struct {
	Stubs          int       `json:"stubs"`
	Files          int       `json:"files"`
	LoadedAt       time.Time `json:"loadedAt,omitzero"`
	LastError      string    `json:"lastError,omitempty"`
	FailedAt       time.Time `json:"failedAt,omitzero"`
	Warnings       []string  `json:"warnings,omitempty"`
	JournalEntries int       `json:"journalEntries"`
	JournalBytes   int64     `json:"journalBytes"`
	JournalDropped uint64    `json:"journalDropped"`
}

// Status reports the stubs, the last load and the journal.
func (s *Server) Status() Status {
	s.mu.Lock()
	st := s.status
	s.mu.Unlock()
	cur := s.current.Load()
	out := Status{Stubs: len(cur.ordered), Files: st.files, LoadedAt: st.loadedAt, LastError: st.lastError, FailedAt: st.failedAt, Warnings: cur.ambiguous}
	out.JournalEntries, out.JournalBytes, out.JournalDropped = s.journal.counts()
	return out
}

// newID is a random UUID (version 4), as WireMock gives stubs and
// journal entries.
func newID() string { return formatUUID(newUUID()) }

// newUUID is a random UUID's bytes. The runtime's generator (ChaCha8,
// seeded by the system) is ample for ids and costs no system call per
// request.
func newUUID() [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}

// formatUUID writes id as a UUID: 8-4-4-4-12 hex digits.
func formatUUID(id [16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], id[0:4])
	hex.Encode(out[9:13], id[4:6])
	hex.Encode(out[14:18], id[6:8])
	hex.Encode(out[19:23], id[8:10])
	hex.Encode(out[24:], id[10:])
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:])
}

// parseUUID reads what formatUUID wrote (hex digits in either case).
func parseUUID(s string) ([16]byte, bool) {
	var id [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	digits := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	_, err := hex.Decode(id[:], []byte(digits))
	return id, err == nil
}
