package control

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
)

func candidatePath(name, candidate string) string {
	return "/api/v1/elections/" + url.PathEscape(name) + "/candidates/" + url.PathEscape(candidate)
}

// Campaign makes candidate a candidate of the election name for ttl more
// (zero: the server's default, 15s) and reports whether it leads. When it
// does not lead yet, the answer waits up to wait for it to.
func (c *Client) Campaign(ctx context.Context, name, candidate string, ttl, wait time.Duration) (bool, error) {
	q := url.Values{}
	if ttl > 0 {
		q.Set("ttl", ttl.String())
	}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	var out CampaignResponse
	if err := c.do(ctx, http.MethodPut, candidatePath(name, candidate), q, nil, &out, wait+requestTimeout); err != nil {
		return false, err
	}
	return out.Leader, nil
}

// Resign withdraws candidate from the election name, leadership included.
func (c *Client) Resign(ctx context.Context, name, candidate string) error {
	return c.do(ctx, http.MethodDelete, candidatePath(name, candidate), nil, nil, nil, requestTimeout)
}

// Election says which candidate leads name, as far as the control plane
// that answers knows.
func (c *Client) Election(ctx context.Context, name string) (ElectionResponse, error) {
	var out ElectionResponse
	err := c.do(ctx, http.MethodGet, "/api/v1/elections/"+url.PathEscape(name), nil, nil, &out, requestTimeout)
	return out, err
}

// Lead campaigns as candidate in the election name until it leads, then
// returns, like registry.Elector's Lead but through the control API. It
// keeps the candidacy up by campaigning again every ttl/3. The returned
// context ends when leadership may be lost: a campaign answered that the
// candidate no longer leads, or none succeeded for 9/10 of ttl since the
// last one that did was sent (the server drops a candidate ttl after its
// last request arrived, so the candidate stops first). resign gives
// leadership up at once and must be called once the work stops. Lead
// returns an error only when ctx ends first.
func (c *Client) Lead(ctx context.Context, name, candidate string, ttl time.Duration) (lead context.Context, resign func(), err error) {
	if ttl <= 0 {
		ttl = DefaultElectionTTL
	}
	backoff := wait.Backoff{Min: 100 * time.Millisecond, Max: ttl / 3}
	for {
		sent := time.Now()
		leader, err := c.Campaign(ctx, name, candidate, ttl, ttl/2)
		switch {
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case err != nil:
			c.log.Warn("campaign failed; retrying", "election", name, "candidate", candidate, "error", err)
			backoff.Wait(ctx)
		case leader:
			lead, resign := c.keepLeading(ctx, name, candidate, ttl, sent)
			return lead, resign, nil
		default:
			backoff.Reset()
		}
	}
}

// keepLeading renews a won candidacy until it is lost or resigned.
func (c *Client) keepLeading(ctx context.Context, name, candidate string, ttl time.Duration, sent time.Time) (context.Context, func()) {
	validFor := ttl - ttl/10
	lead, cancel := context.WithCancel(ctx)
	lapse := time.AfterFunc(time.Until(sent.Add(validFor)), func() {
		c.log.Warn("leadership lapsed: no campaign succeeded in time", "election", name, "candidate", candidate)
		cancel()
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for wait.Sleep(lead, ttl/3) {
			sent := time.Now()
			rctx, rcancel := context.WithTimeout(lead, ttl/3)
			leader, err := c.Campaign(rctx, name, candidate, ttl, 0)
			rcancel()
			switch {
			case lead.Err() != nil:
				return
			case err != nil:
				c.log.Warn("renewing leadership failed", "election", name, "candidate", candidate, "error", err)
			case !leader:
				c.log.Warn("leadership lost to another candidate", "election", name, "candidate", candidate)
				cancel()
				return
			default:
				lapse.Reset(time.Until(sent.Add(validFor)))
			}
		}
	}()
	resign := func() {
		cancel()
		lapse.Stop()
		<-done
		rctx, rcancel := context.WithTimeout(context.Background(), requestTimeout)
		defer rcancel()
		if err := c.Resign(rctx, name, candidate); err != nil {
			c.log.Warn("resigning failed; the candidacy lapses after its ttl", "election", name, "candidate", candidate, "error", err)
		}
	}
	return lead, resign
}
