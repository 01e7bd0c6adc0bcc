package proxy

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
)

// runner runs one direction's compiled chain and writes the outcome.
type runner struct {
	dir     chain.Direction
	next    chain.Next
	metrics *metrics.Set
	// observe is the direction's request metrics, looked up once.
	observe *metrics.Direction
	logger  *slog.Logger
	// maxBody refuses requests that declare a larger body (0: no limit).
	maxBody int64
}

// errBodyTimeout answers a caller whose declared body did not arrive
// within the listener's body read timeout.
var errBodyTimeout = errors.New("the request body did not arrive within limits.readBodyTimeout")

func newRunner(dir chain.Direction, next chain.Next, m *metrics.Set, logger *slog.Logger, maxBody int64) runner {
	return runner{dir: dir, next: next, metrics: m, observe: m.Direction(dir.String()), logger: logger, maxBody: maxBody}
}

func (rn *runner) run(w http.ResponseWriter, ex *chain.Exchange, serviceLabel string) {
	defer ex.Release()
	rn.observe.InFlight.Inc()
	defer rn.observe.InFlight.Dec()
	if rn.maxBody > 0 && ex.Request.ContentLength > rn.maxBody {
		rn.fail(w, ex, serviceLabel, &chain.Error{Status: http.StatusRequestEntityTooLarge, Reason: "body_too_large",
			Err: errors.New("request body larger than the sidecar's limit")})
		return
	}
	// The server's body, before a handler wraps it (GuardBody).
	body, _ := ex.Request.Body.(httpx.ExpiringBody)
	resp, err := rn.next(ex)
	if err != nil {
		ce := chain.AsError(err)
		if body != nil && body.Expired() {
			// Whatever the upstream made of the cut body, the caller is
			// the one that was late.
			ce = &chain.Error{Status: http.StatusRequestTimeout, Reason: chain.ReasonBodyTimeout, Err: errBodyTimeout}
		}
		rn.fail(w, ex, serviceLabel, ce)
		return
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		rn.upgrade(w, ex, resp, serviceLabel)
		return
	}
	rn.observe.Observe(serviceLabel, ex.Subset(), resp.StatusCode, time.Since(ex.Start))
	if err := writeResponse(w, resp); err != nil {
		if ex.Context().Err() == nil {
			rn.logger.Debug("response copy ended early", "service", serviceLabel, "error", err)
			// Ending the handler normally would tell the caller the body
			// was complete; aborting resets the stream or connection.
			panic(http.ErrAbortHandler)
		}
	}
}

func (rn *runner) fail(w http.ResponseWriter, ex *chain.Exchange, serviceLabel string, ce *chain.Error) {
	dirLabel := rn.dir.String()
	rn.metrics.Errors.WithLabelValues(dirLabel, serviceLabel, ex.Subset(), ce.Reason).Inc()
	rn.observe.Observe(serviceLabel, ex.Subset(), ce.Status, time.Since(ex.Start))
	if ce.Reason != chain.ReasonCanceled {
		rn.logger.Debug("request failed in the sidecar", "direction", dirLabel, "service", serviceLabel, "reason", ce.Reason, "error", ce.Err)
	}
	writeError(w, ce, httpx.IsGRPC(ex.Request.Header))
}
