package runner

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/report"
	"github.com/meshbridge/meshbridge/scenarios/spec"
	"github.com/meshbridge/meshbridge/scenarios/traffic"
)

func describeAssert(a *spec.Assert) string {
	if a.Name != "" {
		return a.Name
	}
	switch {
	case a.Share != nil:
		return fmt.Sprintf("share %s/%s %v ±%s", a.Share.Traffic, orAll(a.Share.Class), fmtShares(a.Share.Expect), a.Share.Tolerance)
	case a.ErrorRate != nil:
		return fmt.Sprintf("errorRate %s/%s <= %s", a.ErrorRate.Traffic, orAll(a.ErrorRate.Class), a.ErrorRate.Max)
	case a.Latency != nil:
		return fmt.Sprintf("latency %s/%s", a.Latency.Traffic, orAll(a.Latency.Class))
	case a.Compare != nil:
		return fmt.Sprintf("compare %s against %s", a.Compare.Traffic, a.Compare.Baseline)
	case a.Instances != nil:
		return fmt.Sprintf("instances %s view %s%s = %d", a.Instances.Service, a.Instances.View, fromSuffix(a.Instances.From), a.Instances.Count)
	case a.Instance != nil:
		state := "present"
		if !a.Instance.Present {
			state = "gone"
		}
		return fmt.Sprintf("instance %s %s in %s view%s", a.Instance.Component, state, a.Instance.View, fromSuffix(a.Instance.From))
	case a.Received != nil:
		return fmt.Sprintf("received %s %v %s", a.Received.Service, a.Received.Labels, a.Received.Kind)
	case a.Journal != nil:
		return fmt.Sprintf("journal of %s, stub %s, headers %v", a.Journal.Mock, orAll(a.Journal.Stub), a.Journal.Headers)
	}
	return ""
}

func fromSuffix(from string) string {
	if from == "" {
		return ""
	}
	return " from " + from
}

func orAll(class string) string {
	if class == "" {
		return "all"
	}
	return class
}

func fmtShares(m map[string]spec.Share) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+m[k].String())
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// assert checks a condition, polling until Within when it is set.
func (r *run) assert(ctx context.Context, a *spec.Assert) (string, error) {
	check := func(ctx context.Context) (string, error) { return r.check(ctx, a) }
	if a.Within <= 0 {
		return check(ctx)
	}
	start := time.Now()
	var msg string
	err := poll(ctx, a.Within, 200*time.Millisecond, func(ctx context.Context) error {
		var err error
		msg, err = check(ctx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("not within %v: %w", a.Within, err)
	}
	return fmt.Sprintf("%s (after %s)", msg, time.Since(start).Round(time.Millisecond)), nil
}

func (r *run) samples(name string) []traffic.Sample { return r.traffic[name].run.Samples() }

func (r *run) check(ctx context.Context, a *spec.Assert) (string, error) {
	switch {
	case a.Share != nil:
		return r.checkShare(a.Share)
	case a.ErrorRate != nil:
		c := a.ErrorRate
		s := traffic.Summarise(r.samples(c.Traffic), c.Class)
		msg := fmt.Sprintf("%.2f%% of %d failed", s.ErrorRate*100, s.Requests)
		if s.Resent > 0 {
			msg += fmt.Sprintf(" (%d of them answered only after the client re-sent them)", s.Resent)
		}
		if s.ErrorRate > float64(c.Max) {
			return "", fmt.Errorf("%s, more than %s; failures: %v", msg, c.Max, s.Errors)
		}
		return msg, nil
	case a.Latency != nil:
		return checkLatency(a.Latency, traffic.Summarise(r.samples(a.Latency.Traffic), a.Latency.Class))
	case a.Compare != nil:
		c := a.Compare
		cur := traffic.Summarise(r.samples(c.Traffic), c.Class)
		base := traffic.Summarise(r.samples(c.Baseline), c.Class)
		limit := time.Duration(float64(base.P99)*c.P99Ratio) + c.P99Slack
		msg := fmt.Sprintf("p99 %s against baseline %s (limit %s); errors %.2f%% against %.2f%%",
			cur.P99.Round(10*time.Microsecond), base.P99.Round(10*time.Microsecond), limit.Round(10*time.Microsecond), cur.ErrorRate*100, base.ErrorRate*100)
		if cur.P99 > limit {
			return "", fmt.Errorf("%s: p99 above the limit", msg)
		}
		if cur.ErrorRate > base.ErrorRate+float64(c.ErrorRateDelta) {
			return "", fmt.Errorf("%s: error rate above baseline + %s", msg, c.ErrorRateDelta)
		}
		return msg, nil
	case a.Instances != nil:
		c := a.Instances
		list, err := r.view(ctx, c.View, c.From, c.Service, c.Labels)
		if err != nil {
			return "", err
		}
		n := 0
		for _, in := range list {
			if in.Healthy || !c.HealthyOnly {
				n++
			}
		}
		if n != c.Count {
			return "", fmt.Errorf("the %s view%s shows %d instances of %s, want %d", c.View, fromSuffix(c.From), n, c.Service, c.Count)
		}
		return fmt.Sprintf("%d instances", n), nil
	case a.Instance != nil:
		return r.checkInstance(ctx, a.Instance)
	case a.Received != nil:
		return r.checkReceived(ctx, a.Received)
	case a.Journal != nil:
		return r.checkJournal(ctx, a.Journal)
	}
	return "", fmt.Errorf("empty assertion")
}

func (r *run) checkShare(c *spec.ShareCheck) (string, error) {
	t := r.traffic[c.Traffic]
	service := c.Service
	if service == "" {
		service = t.spec.Service
	}
	shares, n := traffic.Shares(t.run.Samples(), c.Class, strings.ToLower(service))
	msg := fmt.Sprintf("%s over %d answers", report.FormatShares(shares), n)
	if n == 0 {
		return "", fmt.Errorf("no answered requests in %s/%s", c.Traffic, orAll(c.Class))
	}
	var bad []string
	for v, want := range c.Expect {
		if got := shares[v]; math.Abs(got-float64(want)) > float64(c.Tolerance)+1e-9 {
			bad = append(bad, fmt.Sprintf("%s got %.2f%%, want %s ±%s", v, got*100, want, c.Tolerance))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return "", fmt.Errorf("%s: %s", msg, strings.Join(bad, "; "))
	}
	return msg, nil
}

func checkLatency(c *spec.LatencyCheck, s traffic.Summary) (string, error) {
	msg := fmt.Sprintf("p50 %s p90 %s p99 %s max %s", s.P50.Round(10*time.Microsecond), s.P90.Round(10*time.Microsecond), s.P99.Round(10*time.Microsecond), s.Max.Round(10*time.Microsecond))
	var bad []string
	for _, l := range []struct {
		name      string
		got, want time.Duration
	}{{"p50", s.P50, c.P50}, {"p90", s.P90, c.P90}, {"p99", s.P99, c.P99}, {"max", s.Max, c.Max}} {
		if l.want > 0 && l.got > l.want {
			bad = append(bad, fmt.Sprintf("%s %s > %s", l.name, l.got.Round(10*time.Microsecond), l.want))
		}
	}
	if c.MinP99 > 0 && s.P99 < c.MinP99 {
		bad = append(bad, fmt.Sprintf("p99 %s < %s", s.P99.Round(10*time.Microsecond), c.MinP99))
	}
	if len(bad) > 0 {
		return "", fmt.Errorf("%s: %s", msg, strings.Join(bad, ", "))
	}
	return msg, nil
}

func (r *run) checkInstance(ctx context.Context, c *spec.OneInstance) (string, error) {
	var msgs []string
	for _, name := range spec.Match(r.names, c.Component) {
		comp := r.byName[name]
		want := r.advertised(comp)
		list, err := r.view(ctx, c.View, c.From, comp.Service, nil)
		if err != nil {
			return "", err
		}
		found := false
		for _, in := range list {
			found = found || in.Addr == want
		}
		if found != c.Present {
			state := map[bool]string{true: "is", false: "is not"}[found]
			return "", fmt.Errorf("%s (%s) %s in the %s view%s", name, want, state, c.View, fromSuffix(c.From))
		}
		msgs = append(msgs, name)
	}
	return strings.Join(msgs, ", "), nil
}

// advertised is the address an app registers (its sidecar's ingress).
func (r *run) advertised(c *Component) string {
	if c.Pod != "" {
		return r.net.Dial(c.Pod, "ingress")
	}
	return r.net.Dial(c.Name, "http")
}

func (r *run) checkReceived(ctx context.Context, c *spec.Received) (string, error) {
	var before, after statsSnapshot
	var sent int
	if c.Traffic != "" {
		t := r.traffic[c.Traffic]
		before, after, sent = t.before, t.after, len(t.run.Samples())
	} else {
		after = r.settledStats(ctx)
	}
	count := int64(0)
	var apps []string
	for _, comp := range r.comps {
		if comp.Role != RoleApp || comp.Service != c.Service || !spec.LabelsMatch(comp.Labels, c.Labels) {
			continue
		}
		apps = append(apps, comp.Name)
		d := after[comp.Name]
		b := before[comp.Name]
		switch c.Kind {
		case "plain":
			count += d.Plain - b.Plain
		case "shadow":
			count += d.Shadow - b.Shadow
		default:
			count += d.Requests - b.Requests
		}
	}
	msg := fmt.Sprintf("%d %s requests reached %s", count, c.Kind, strings.Join(apps, ", "))
	if sent > 0 {
		msg += fmt.Sprintf(" (%.2f%% of %d sent)", 100*float64(count)/float64(sent), sent)
	}
	var bad []string
	if c.Min != nil && count < int64(*c.Min) {
		bad = append(bad, fmt.Sprintf("fewer than %d", *c.Min))
	}
	if c.Max != nil && count > int64(*c.Max) {
		bad = append(bad, fmt.Sprintf("more than %d", *c.Max))
	}
	if c.MinShare != nil && float64(count) < float64(*c.MinShare)*float64(sent) {
		bad = append(bad, fmt.Sprintf("less than %s", *c.MinShare))
	}
	if c.MaxShare != nil && float64(count) > float64(*c.MaxShare)*float64(sent) {
		bad = append(bad, fmt.Sprintf("more than %s", *c.MaxShare))
	}
	if len(bad) > 0 {
		return "", fmt.Errorf("%s: %s", msg, strings.Join(bad, ", "))
	}
	return msg, nil
}
