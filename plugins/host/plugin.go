package host

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk"
	"github.com/meshbridge/meshbridge/plugins/sdk/pluginhost"
)

// stableAfter is how long a plugin must run before a crash restarts it
// after the shortest delay again.
const stableAfter = 30 * time.Second

// Plugin is one configured plugin: the running process (when there is one)
// and the supervisor that keeps it running. Its methods are safe for
// concurrent use; calls never wait for a restart, they fail with
// ErrUnavailable and the caller applies the policy.
type Plugin struct {
	cfg     Config
	path    string
	log     *slog.Logger
	metrics *pluginMetrics
	info    pluginhost.Info // as declared at the first start; the checksum pins the binary

	cur atomic.Pointer[instance]
	// channelMu orders the updates of the channel gauge (showChannel).
	channelMu sync.Mutex
	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	once      sync.Once

	inFlight                                    atomic.Int64
	ok, failed, timedOut, unavailable, restarts atomic.Int64
}

// Stats are a plugin's counters since the host started.
type Stats struct {
	// PID is the running process, 0 while none runs.
	PID int
	// OK counts calls answered; Failed, TimedOut and Unavailable count
	// calls that fell to the failure policy, by cause.
	OK, Failed, TimedOut, Unavailable int64
	// Restarts counts starts after the first.
	Restarts int64
	// InFlight is the number of calls waiting for the plugin now.
	InFlight int64
}

// startPlugin starts the first process; the plugin is returned only if it
// is running and answered Describe.
func startPlugin(cfg Config, logger *slog.Logger, m *metrics) (*Plugin, error) {
	cfg = cfg.WithDefaults()
	path, err := cfg.absPath()
	if err != nil {
		return nil, fmt.Errorf("plugin %q: path: %w", cfg.Name, err)
	}
	p := &Plugin{
		cfg:     cfg,
		path:    path,
		log:     logger.With("plugin", cfg.Name),
		metrics: m.forPlugin(cfg.Name),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	inst, err := p.launch()
	if err != nil {
		return nil, err
	}
	p.info = inst.info
	p.cur.Store(inst)
	p.metrics.up.Set(1)
	p.showChannel()
	p.log.Info("plugin started", "pid", inst.pid, "path", path, "sdk_version", inst.info.SDKVersion,
		"http_request", inst.info.Request, "http_response", inst.info.Response,
		"request_body_limit", inst.info.RequestBodyLimit, "instance_transformer", inst.info.Instances)
	go p.supervise(inst)
	return p, nil
}

// Name is the configured name.
func (p *Plugin) Name() string { return p.cfg.Name }

// Info is what the plugin declared at start.
func (p *Plugin) Info() pluginhost.Info { return p.info }

// FailOpen reports whether calls that fail go on without the plugin.
func (p *Plugin) FailOpen() bool { return p.cfg.FailurePolicy == FailOpen }

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	s := Stats{
		OK: p.ok.Load(), Failed: p.failed.Load(), TimedOut: p.timedOut.Load(),
		Unavailable: p.unavailable.Load(), Restarts: p.restarts.Load(), InFlight: p.inFlight.Load(),
	}
	if inst := p.cur.Load(); inst != nil {
		s.PID = inst.pid
	}
	return s
}

// wake asks the supervisor to check the plugin now.
func (p *Plugin) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// supervise keeps the plugin running until Close: it watches the current
// process and replaces it, with growing delays, when it exits or stops
// answering health checks.
func (p *Plugin) supervise(inst *instance) {
	defer close(p.done)
	delay := p.cfg.RestartBackoff.D()
	for {
		reason, stopping := p.watch(inst)
		if stopping {
			return
		}
		p.cur.CompareAndSwap(inst, nil)
		p.metrics.up.Set(0)
		p.showChannel()
		inst.stop(false)
		p.log.Warn("plugin down, restarting", "reason", reason, "pid", inst.pid, "uptime", time.Since(inst.started).Round(time.Millisecond).String())
		if time.Since(inst.started) > stableAfter {
			delay = p.cfg.RestartBackoff.D()
		}
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(delay):
			}
			next, err := p.launch()
			delay = min(2*delay, p.cfg.RestartMaxDelay.D())
			if err != nil {
				p.log.Error("plugin restart failed", "error", err, "retry_in", delay.String())
				continue
			}
			inst = next
			p.cur.Store(inst)
			p.restarts.Add(1)
			p.metrics.restarts.Inc()
			p.metrics.up.Set(1)
			p.showChannel()
			p.log.Info("plugin restarted", "pid", inst.pid)
			break
		}
	}
}

// watch returns when inst should be replaced (with the reason) or the
// plugin is closing.
func (p *Plugin) watch(inst *instance) (reason string, stopping bool) {
	t := time.NewTicker(p.cfg.HealthInterval.D())
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return "", true
		case <-p.kick:
		case <-t.C:
		}
		if err := inst.healthy(p.cfg.HealthTimeout.D()); err != nil {
			select {
			case <-p.stop: // the host is closing the connection: not a crash
				return "", true
			default:
			}
			return err.Error(), false
		}
	}
}

// Close stops the supervisor and the process (gracefully, then by force).
// It is safe to call more than once.
func (p *Plugin) Close() {
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		if inst := p.cur.Swap(nil); inst != nil {
			inst.stop(true)
			p.log.Info("plugin stopped", "pid", inst.pid)
		}
		p.metrics.up.Set(0)
		p.showChannel()
	})
}

// current returns the running instance or an ErrUnavailable call error.
func (p *Plugin) current(call string) (*instance, error) {
	if inst := p.cur.Load(); inst != nil {
		return inst, nil
	}
	return nil, p.unavailableCall(call, "not running")
}

// unavailableCall counts a call refused before it reached the plugin.
func (p *Plugin) unavailableCall(call, why string) error {
	p.unavailable.Add(1)
	p.metrics.result(call, resultUnavailable)
	return &CallError{Plugin: p.cfg.Name, Call: call, Err: fmt.Errorf("%w: %s", ErrUnavailable, why)}
}

// callContext bounds one call by the plugin's timeout.
func (p *Plugin) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.cfg.Timeout.D())
}

// finish records a call's outcome and turns an error into a CallError that
// says why. A call abandoned by its caller (the client went away) returns
// the caller's context error and is not held against the plugin.
func (p *Plugin) finish(ctx context.Context, call string, start time.Time, err error) error {
	p.metrics.observe(call, time.Since(start))
	if err == nil {
		p.ok.Add(1)
		p.metrics.result(call, resultOK)
		return nil
	}
	if ctx.Err() != nil {
		p.metrics.result(call, resultCanceled)
		return ctx.Err()
	}
	var cause error
	switch status.Code(err) {
	case codes.DeadlineExceeded:
		p.timedOut.Add(1)
		p.metrics.result(call, resultTimeout)
		cause = fmt.Errorf("%w after %s", ErrTimeout, p.cfg.Timeout.D())
	case codes.Unavailable, codes.Canceled:
		p.unavailable.Add(1)
		p.metrics.result(call, resultUnavailable)
		p.wake()
		cause = fmt.Errorf("%w: %s", ErrUnavailable, status.Convert(err).Message())
	default:
		p.failed.Add(1)
		p.metrics.result(call, resultFailed)
		cause = fmt.Errorf("%w: %s", ErrFailed, statusMessage(err))
	}
	return &CallError{Plugin: p.cfg.Name, Call: call, Err: cause}
}

func statusMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

// call runs one call on the current process, bounded by the timeout, and
// records its outcome; check, when set, vets an answer (a plugin's answer
// can break the protocol's rules).
func call[T any](ctx context.Context, p *Plugin, name string, do func(context.Context, *pluginhost.Client) (T, error), check func(T) error) (T, error) {
	var zero T
	inst, err := p.current(name)
	if err != nil {
		return zero, err
	}
	if n := p.inFlight.Add(1); n > int64(p.cfg.MaxConcurrentCalls) {
		p.inFlight.Add(-1)
		return zero, p.unavailableCall(name, fmt.Sprintf("%d calls already in flight", n-1))
	}
	defer p.inFlight.Add(-1)
	cctx, cancel := p.callContext(ctx)
	defer cancel()
	start := time.Now()
	out, err := do(cctx, inst.rpc)
	if err == nil && check != nil {
		err = check(out)
	}
	if err := p.finish(ctx, name, start, err); err != nil {
		return zero, err
	}
	return out, nil
}

// HandleRequest runs the plugin's request phase. An error is a *CallError
// (apply the policy: FailOpen) or the caller's context error.
func (p *Plugin) HandleRequest(ctx context.Context, req *sdk.Request) (*sdk.RequestResult, error) {
	return call(ctx, p, "request", func(ctx context.Context, c *pluginhost.Client) (*sdk.RequestResult, error) {
		return c.HandleRequest(ctx, req)
	}, checkRequestResult)
}

func checkRequestResult(res *sdk.RequestResult) error {
	if res.Response != nil && (res.Response.Status < 200 || res.Response.Status > 599) {
		return fmt.Errorf("direct response with status %d (must be 200-599)", res.Response.Status)
	}
	return nil
}

// HandleResponse runs the plugin's response phase.
func (p *Plugin) HandleResponse(ctx context.Context, resp *sdk.ResponseInfo) (*sdk.ResponseResult, error) {
	return call(ctx, p, "response", func(ctx context.Context, c *pluginhost.Client) (*sdk.ResponseResult, error) {
		return c.HandleResponse(ctx, resp)
	}, nil)
}

// TransformInstance runs the plugin's instance transformer. A rejection is
// a *RejectedError; other errors are *CallError or the caller's context error.
func (p *Plugin) TransformInstance(ctx context.Context, in *sdk.Instance) (*sdk.Instance, error) {
	var reason *string
	out, err := call(ctx, p, "transform", func(ctx context.Context, c *pluginhost.Client) (*sdk.Instance, error) {
		out, err := c.TransformInstance(ctx, in)
		if r, ok := sdk.IsReject(err); ok {
			reason = &r.Reason
			return nil, nil // a rejection is an answer, not a failure
		}
		return out, err
	}, func(out *sdk.Instance) error {
		if reason != nil {
			return nil
		}
		return checkIdentity(in, out)
	})
	if err != nil {
		return nil, err
	}
	if reason != nil {
		return nil, &RejectedError{Plugin: p.cfg.Name, Reason: *reason}
	}
	return out, nil
}

// checkIdentity refuses results that change read-only fields: the
// instance's key must stay what the registering client will renew.
func checkIdentity(in, out *sdk.Instance) error {
	var changed []string
	for _, f := range []struct {
		name     string
		was, now any
	}{
		{"id", in.ID, out.ID}, {"service", in.Service, out.Service}, {"namespace", in.Namespace, out.Namespace},
		{"group", in.Group, out.Group}, {"ephemeral", in.Ephemeral, out.Ephemeral}, {"origin", in.Origin, out.Origin},
	} {
		if f.was != f.now {
			changed = append(changed, f.name)
		}
	}
	if len(changed) > 0 {
		return fmt.Errorf("the plugin changed read-only fields %v", changed)
	}
	return nil
}
