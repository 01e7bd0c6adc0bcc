package mock

import (
	"context"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/mock/load"
)

// DefaultWatchInterval is how often Watch looks at the stub files unless
// told otherwise.
const DefaultWatchInterval = time.Second

// Watch reloads the stub files LoadFiles read whenever their names,
// sizes or modification times change (looked at every interval, default
// DefaultWatchInterval), until ctx ends. Polling works the same on every
// file system, through editors' rename-on-save and folders created
// later, which is worth more here than an event a few milliseconds
// sooner. A bad change keeps the last good stubs and is reported (the
// log and the admin API's status) once, until the files change again.
// A change is loaded once the files have looked the same for one more
// interval, so that a file still being written (a copy, a shell's >)
// is not read half-way. It returns nil when ctx ends.
func (s *Server) Watch(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	var settling string // a changed fingerprint seen once, not yet loaded
	for wait.Sleep(ctx, interval) {
		s.mu.Lock()
		roots, seen := s.roots, s.status.fingerprint
		s.mu.Unlock()
		if len(roots) == 0 {
			continue
		}
		now, err := load.Fingerprint(roots...)
		if err != nil {
			now = "error: " + err.Error()
		}
		if now == seen {
			settling = ""
			continue
		}
		if now != settling {
			settling = now // still changing, or just changed: look again
			continue
		}
		settling = ""
		if s.Reload() != nil {
			// Remember what failed so that it is reported once, not
			// every interval; a further change is tried again.
			s.mu.Lock()
			s.status.fingerprint = now
			s.mu.Unlock()
		}
	}
	return nil
}
