package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/index"
)

// Store is the embedded registry.Store.
type Store struct {
	opts    Options
	log     *slog.Logger
	state   *index.State
	hub     *index.Hub
	metrics *metrics
	started time.Time

	// wmu serialises writers so revisions, the log and the state stay in
	// the same order.
	wmu sync.Mutex

	// fmu guards the group-commit queue below.
	fmu      sync.Mutex
	buf      []byte
	pending  []registry.Event
	durable  int64
	werr     error
	flushed  chan struct{}
	kick     chan struct{}
	wal      *os.File
	walSize  int64
	lockFile *os.File

	selfPreserving atomic.Bool
	stop           chan struct{}
	wg             sync.WaitGroup
	closeOnce      sync.Once
}

// Open restores the store from opts.Dir (creating it if needed) and starts
// the log writer and lease expiry.
func Open(opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: create data dir: %w", err)
	}
	s := &Store{
		opts:    o,
		log:     o.Logger.With("component", "registry.embedded"),
		state:   index.NewState(),
		flushed: make(chan struct{}),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	if err := s.lockDir(); err != nil {
		return nil, err
	}
	if err := s.restore(); err != nil {
		s.lockFile.Close()
		return nil, err
	}
	s.started = o.Now()
	// Leases restart now: clients get a full lease to renew after a restart.
	s.state.RenewAll(s.started)
	s.hub = index.NewHub(o.History, s.state.Revision())
	s.durable = s.state.Revision()
	s.metrics = newMetrics(o.Metrics, s)
	s.wg.Add(1)
	go s.flusher()
	if !o.Expiry.Disabled {
		s.wg.Add(1)
		go s.expiryLoop()
	}
	return s, nil
}

func (s *Store) lockDir() error {
	f, err := os.OpenFile(filepath.Join(s.opts.Dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("embedded: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("embedded: data dir %s is in use by another process: %w", s.opts.Dir, err)
	}
	s.lockFile = f
	return nil
}

// snapshotMarker is the type of the first record of a snapshot, carrying its revision.
const snapshotMarker registry.EventType = "SNAPSHOT"

func (s *Store) restore() error {
	snapPath := filepath.Join(s.opts.Dir, snapshotName)
	var events []registry.Event
	_, torn, err := readRecords(snapPath, func(e *registry.Event) error {
		if e.Type == snapshotMarker {
			s.state.SetRevision(e.Revision)
			return nil
		}
		events = append(events, *e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: read snapshot: %w", err)
	}
	if torn {
		// Snapshots are written to a temporary file and renamed, so a torn
		// snapshot means the disk lost data we acknowledged: refuse to start.
		return fmt.Errorf("embedded: snapshot %s is corrupt", snapPath)
	}
	s.state.Apply(events...)
	// Revisions start at 1 so that 0 can mean "now" in watches and a
	// Consul index derived from it is never 0.
	s.state.SetRevision(1)
	snapRev := s.state.Revision()

	walPath := filepath.Join(s.opts.Dir, walName)
	replayed := 0
	good, torn, err := readRecords(walPath, func(e *registry.Event) error {
		if e.Revision > snapRev {
			s.state.Apply(*e)
			replayed++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: replay log: %w", err)
	}
	f, err := os.OpenFile(walPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("embedded: open log: %w", err)
	}
	if torn {
		// A write cut short by a crash: it was never acknowledged, drop it.
		s.log.Warn("dropping torn tail of the write-ahead log", "path", walPath, "kept_bytes", good)
		if err := f.Truncate(good); err != nil {
			f.Close()
			return fmt.Errorf("embedded: truncate torn log: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("embedded: sync log: %w", err)
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("embedded: seek log: %w", err)
	}
	s.wal, s.walSize = f, good
	n, r, k := s.state.Counts()
	s.log.Info("registry restored", "dir", s.opts.Dir, "revision", s.state.Revision(),
		"instances", n, "resources", r, "keys", k, "replayed_events", replayed)
	return nil
}

// commit appends events to the log queue and applies them to the state. The
// caller holds wmu; it must call waitDurable after releasing it.
func (s *Store) commitLocked(events ...registry.Event) error {
	s.fmu.Lock()
	if s.werr != nil {
		err := s.werr
		s.fmu.Unlock()
		return err
	}
	for i := range events {
		rec := events[i]
		rec.PrevInstance, rec.PrevResource, rec.PrevKV = nil, nil, nil // not needed to replay
		var err error
		if s.buf, err = appendRecord(s.buf, &rec); err != nil {
			s.fmu.Unlock()
			return err
		}
	}
	s.pending = append(s.pending, events...)
	// Applied before fmu is released: a flush under way takes pending as
	// soon as it can and publishes it, and a watcher woken by an event
	// must find its change in the state (else a Consul blocking query
	// answers the event's index with the data from before it, and waits
	// past the change for good).
	s.state.Apply(events...)
	s.fmu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// waitDurable blocks until revision rev is on disk. It ignores the caller's
// context on purpose: a write that was applied is acknowledged only once it
// is durable, and the flush is bounded by the disk.
func (s *Store) waitDurable(rev int64) error {
	for {
		s.fmu.Lock()
		if s.werr != nil {
			err := s.werr
			s.fmu.Unlock()
			return err
		}
		if s.durable >= rev {
			s.fmu.Unlock()
			return nil
		}
		ch := s.flushed
		s.fmu.Unlock()
		<-ch
	}
}

func (s *Store) flusher() {
	defer s.wg.Done()
	for {
		select {
		case <-s.kick:
		case <-s.stop:
			s.flush()
			return
		}
		s.flush()
		if s.walSize >= s.opts.SnapshotBytes {
			s.snapshot()
		}
	}
}

// flush writes and fsyncs everything queued, then publishes it to watchers.
func (s *Store) flush() {
	s.fmu.Lock()
	buf, events := s.buf, s.pending
	s.buf, s.pending = nil, nil
	s.fmu.Unlock()
	if len(events) == 0 {
		return
	}
	start := time.Now()
	_, err := s.wal.Write(buf)
	if err == nil {
		err = s.wal.Sync()
	}
	s.metrics.fsyncSeconds.Observe(time.Since(start).Seconds())
	s.metrics.walBytes.Add(float64(len(buf)))
	s.walSize += int64(len(buf))
	if err == nil {
		// Publish before waking the writers, so that once a write returns,
		// Revision() and new watches already include it.
		s.hub.Publish(events...)
	}
	s.fmu.Lock()
	if err != nil {
		// A failed fsync leaves the file in an unknown state: stop accepting writes.
		s.werr = fmt.Errorf("embedded: write-ahead log failed, store is read-only: %w", err)
		s.log.Error("write-ahead log failed; refusing further writes", "error", err)
	} else {
		s.durable = events[len(events)-1].Revision
	}
	close(s.flushed)
	s.flushed = make(chan struct{})
	s.fmu.Unlock()
}

// snapshot writes the whole state and empties the log. Writers wait meanwhile.
func (s *Store) snapshot() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.flush()
	var err error
	s.state.Snapshot(func(rev int64, insts []*registry.Instance, res []*registry.Resource, kvs []*registry.KV) {
		err = writeFileSync(filepath.Join(s.opts.Dir, snapshotName), func(w io.Writer) error {
			var buf []byte
			write := func(e *registry.Event) error {
				var err error
				if buf, err = appendRecord(buf[:0], e); err != nil {
					return err
				}
				_, err = w.Write(buf)
				return err
			}
			if err := write(&registry.Event{Revision: rev, Type: snapshotMarker}); err != nil {
				return err
			}
			for _, i := range insts {
				if err := write(&registry.Event{Revision: i.Revision, Type: registry.EventPut, Kind: registry.KindInstance, Instance: i}); err != nil {
					return err
				}
			}
			for _, r := range res {
				if err := write(&registry.Event{Revision: r.Revision, Type: registry.EventPut, Kind: registry.KindResource, Resource: r}); err != nil {
					return err
				}
			}
			for _, kv := range kvs {
				if err := write(&registry.Event{Revision: kv.Revision, Type: registry.EventPut, Kind: registry.KindKV, KV: kv}); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err == nil {
		// The snapshot holds everything in the log; a crash before the
		// truncation is harmless because replay skips revisions it covers.
		err = s.wal.Truncate(0)
		if err == nil {
			_, err = s.wal.Seek(0, io.SeekStart)
		}
		if err == nil {
			err = s.wal.Sync()
		}
	}
	if err != nil {
		s.log.Error("snapshot failed; the log keeps growing", "error", err)
		return
	}
	s.walSize = 0
	s.metrics.snapshots.Inc()
}

// Close flushes, stops background work and releases the data dir.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.hub.Close()
		err = errors.Join(s.wal.Sync(), s.wal.Close(), s.lockFile.Close())
	})
	return err
}

func (s *Store) closed() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// write runs one mutation: compute the events under wmu, commit, wait for disk.
func (s *Store) write(ctx context.Context, build func(rev int64, now time.Time) ([]registry.Event, error)) ([]registry.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.wmu.Lock()
	if s.closed() {
		s.wmu.Unlock()
		return nil, registry.ErrClosed
	}
	events, err := build(s.state.Revision()+1, s.opts.Now())
	if err == nil && len(events) > 0 {
		err = s.commitLocked(events...)
	}
	s.wmu.Unlock()
	if err != nil || len(events) == 0 {
		return events, err
	}
	return events, s.waitDurable(events[len(events)-1].Revision)
}

// Revision is the newest durable revision.
func (s *Store) Revision() int64 { return s.hub.Last() }

// SelfPreserving reports whether lease expiry is paused.
func (s *Store) SelfPreserving() bool { return s.selfPreserving.Load() }

var (
	_ registry.Store            = (*Store)(nil)
	_ registry.SelfPreservation = (*Store)(nil)
)

// Lead returns at once: one process owns the store's directory (the lock
// file), so it always leads.
func (s *Store) Lead(ctx context.Context, name string) (context.Context, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	lead, cancel := context.WithCancel(ctx)
	return lead, cancel, nil
}

// Shared is false: no other process uses this store's data.
func (s *Store) Shared() bool { return false }
