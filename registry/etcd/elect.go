package etcd

import (
	"context"
	"fmt"
	"strings"

	"go.etcd.io/etcd/client/v3/concurrency"
)

// Lead campaigns in an etcd election (a lease-backed session, renewed in
// the background) and returns once this process leads name. Leadership
// ends when the session's lease lapses — the process could not reach etcd
// for SessionTTL — or ctx ends; another process then takes over at most
// SessionTTL after this one stopped renewing, at once after resign.
func (s *Store) Lead(ctx context.Context, name string) (context.Context, func(), error) {
	// The session outlives ctx so that resign can still revoke its lease.
	sess, err := concurrency.NewSession(s.cli, concurrency.WithTTL(s.sessionTTL), concurrency.WithContext(context.WithoutCancel(ctx)))
	if err != nil {
		return nil, nil, fmt.Errorf("etcd: election session: %w", err)
	}
	el := concurrency.NewElection(sess, s.electionPrefix(name))
	if err := el.Campaign(ctx, fmt.Sprintf("%x", sess.Lease())); err != nil {
		sess.Close()
		return nil, nil, fmt.Errorf("etcd: campaign for %q: %w", name, err)
	}
	lead, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-sess.Done():
		case <-lead.Done():
		}
		cancel()
	}()
	resign := func() {
		cancel()
		rctx, rcancel := context.WithTimeout(context.Background(), opTimeout)
		defer rcancel()
		if err := el.Resign(rctx); err != nil {
			s.log.Warn("resign leadership", "name", name, "error", err)
		}
		sess.Close() // revokes the lease: nothing of ours is left behind
	}
	return lead, resign, nil
}

// Shared is true: other replicas may use the same etcd keys.
func (s *Store) Shared() bool { return true }

// electionPrefix keeps election keys beside, not under, the store prefix,
// so the store's own watch never sees them.
func (s *Store) electionPrefix(name string) string {
	return strings.TrimSuffix(s.prefix, "/") + ".elections/" + name + "/"
}
