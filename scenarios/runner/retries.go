package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/meshbridge/meshbridge/scenarios/report"
)

// retriesMetric counts the attempts a sidecar's retry policy re-sent.
const retriesMetric = "meshbridge_sidecar_retries_total"

// retryCount follows the sidecars' retries over a run: each sidecar's
// counter when the steps began (0 for a process started later) and the
// retries of sidecar processes that have ended, read before they stopped.
type retryCount struct {
	base   map[string]float64
	banked float64
	// lost names the sidecars whose counter could not be read before
	// their process ended (killed while paused, or already gone).
	lost []string
}

// beginRetries reads every sidecar's counter before the first step.
func (r *run) beginRetries(ctx context.Context) {
	r.retries = retryCount{base: map[string]float64{}}
	for _, n := range r.runningSidecars() {
		v, err := r.sidecarRetries(ctx, n)
		if err != nil {
			r.retries.lost = append(r.retries.lost, n)
		}
		r.retries.base[n] = v
	}
}

// bankRetries keeps a sidecar's retries before its process ends; the
// process started after counts from 0.
func (r *run) bankRetries(ctx context.Context, c *Component) {
	if c.Role != RoleSidecar || r.retries.base == nil {
		return
	}
	r.mu.Lock()
	down := r.down[c.Name]
	r.mu.Unlock()
	if down {
		return
	}
	v, err := r.sidecarRetries(ctx, c.Name)
	r.mu.Lock() // drains stop components in parallel
	defer r.mu.Unlock()
	if err != nil {
		r.retries.lost = append(r.retries.lost, c.Name)
	} else {
		r.retries.banked += v - r.retries.base[c.Name]
	}
	r.retries.base[c.Name] = 0
}

// requests adds up the run's requests over every traffic run and the
// retries the sidecars made while the steps ran.
func (r *run) requests(ctx context.Context) *report.Requests {
	if len(r.res.Traffic) == 0 {
		return nil
	}
	out := &report.Requests{Retried: int(r.retries.banked)}
	for _, t := range r.res.Traffic {
		out.Sent += t.Summary.Requests
		out.Failed += t.Summary.Failed
		out.Resent += t.Summary.Resent
	}
	lost := r.retries.lost
	for _, n := range r.runningSidecars() {
		v, err := r.sidecarRetries(ctx, n)
		if err != nil {
			lost = append(lost, n)
			continue
		}
		out.Retried += int(v - r.retries.base[n])
	}
	if len(lost) > 0 {
		out.RetriedNote = fmt.Sprintf("at least: the retries of %s could not be read", strings.Join(lost, ", "))
	}
	return out
}

// sidecarRetries reads a sidecar's retries counter, summed over services.
func (r *run) sidecarRetries(ctx context.Context, name string) (float64, error) {
	addr, err := r.prov.HostAddr(ctx, name, "admin")
	if err != nil {
		return 0, err
	}
	resp, err := r.call(ctx, http.MethodGet, "http://"+addr+"/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return counterSum(io.LimitReader(resp.Body, 16<<20), retriesMetric)
}

// counterSum adds up every series of a counter in the Prometheus text
// format (0 when the counter is not there, as before its first retry).
func counterSum(body io.Reader, name string) (float64, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(body)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	var sum float64
	for _, m := range families[name].GetMetric() {
		sum += m.GetCounter().GetValue()
	}
	return sum, nil
}
