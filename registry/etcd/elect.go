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
	sess, err := concurrency.NewSession(s.cli, concurrency.WithTTL(s.sessionTTL), concurrency.WithContext(ctx))
	if err != nil {
		return nil, nil, fmt.Errorf("etcd: election session: %w", err)
	}
	el := concurrency.NewElection(sess, s.electionPrefix(name))
	if err := el.Campaign(ctx, fmt.Sprintf("%x", sess.Lease())); err != nil {
		s.dropSession(sess, name)
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
		s.dropSession(sess, name)
	}
	return lead, resign, nil
}

// dropSession revokes an election session's lease, which deletes its keys.
// Not sess.Close: that revokes with the session's context (the caller's
// ctx), which may have ended, leaving the lease until its TTL.
func (s *Store) dropSession(sess *concurrency.Session, name string) {
	sess.Orphan() // stops the keep-alive
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if _, err := s.cli.Revoke(ctx, sess.Lease()); err != nil {
		s.log.Debug("revoke election session", "name", name, "error", err)
	}
}

// Shared is true: other replicas may use the same etcd keys.
func (s *Store) Shared() bool { return true }

// electionPrefix keeps election keys beside, not under, the store prefix,
// so the store's own watch never sees them.
func (s *Store) electionPrefix(name string) string {
	return strings.TrimSuffix(s.prefix, "/") + ".elections/" + name + "/"
}
