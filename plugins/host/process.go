package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/meshbridge/meshbridge/plugins/sdk/pluginhost"
)

// maxReplyBytes caps what a plugin may send back in one answer (a direct
// response body, an instance), so a faulty plugin cannot make the host
// allocate without bound.
const maxReplyBytes = 8 << 20

// testHookAfterPin runs, in tests, between pinning the binary and starting
// it: a test swaps the file there.
var testHookAfterPin func(path string)

// callsOnGRPCEnv, set to "grpc" in a host's environment, leaves the calls
// of the plugins it starts from then on on go-plugin's gRPC stream, the
// calls' channel's fallback: to compare the two (scripts/ab-plugin.sh,
// BenchmarkChainLatency), or to rule the channel out when diagnosing.
const callsOnGRPCEnv = "MESHBRIDGE_PLUGIN_CALLS"

// stopGrace is how long a graceful stop waits before killing the process.
const stopGrace = 3 * time.Second

// instance is one run of a plugin process.
type instance struct {
	client  *plugin.Client
	rpc     *pluginhost.Client
	conn    *grpc.ClientConn
	pid     int
	info    pluginhost.Info
	started time.Time
	// cancel ends the connection watcher.
	cancel context.CancelFunc
	// releaseThread gives back the thread that forked the process, once
	// the process is gone (onForkThread).
	releaseThread func()
}

// launch starts the plugin process, checks its checksum and handshake, and
// asks what it implements. On error nothing is left running.
func (p *Plugin) launch() (*instance, error) {
	sum, err := hex.DecodeString(p.cfg.SHA256)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: sha256: %w", p.cfg.Name, err)
	}
	exe, release, err := pinBinary(p.path)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", p.cfg.Name, err)
	}
	defer release()
	if testHookAfterPin != nil {
		testHookAfterPin(p.path)
	}
	cmd := exec.Command(exe, p.cfg.Args...)
	cmd.Args[0] = p.path // what the plugin sees as its name
	cmd.Env = p.env()
	setProcAttr(cmd)
	tail := newTailBuffer(20)
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  pluginhost.Handshake,
		VersionedPlugins: pluginhost.PluginSets(),
		Cmd:              cmd,
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		AutoMTLS:         true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     p.cfg.StartTimeout.D(),
		Logger:           newHCLogAdapter(p.log),
		Stderr:           tail,
		SyncStdout:       &lineLogger{l: p.log, stream: "stdout"},
		SyncStderr:       &lineLogger{l: p.log, stream: "stderr"},
		SkipHostEnv:      true,
	}
	cfg.GRPCDialOptions = append(pluginhost.DialOptions(), grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxReplyBytes)),
		// After go-plugin's own credentials, so these take their place.
		grpc.WithTransportCredentials(peerChecked{cfg: cfg, pid: func() int { return cmd.Process.Pid }}))
	pipes := p.channelPipes()
	if pipes != nil {
		pipes.AddTo(cmd)
		defer pipes.Close() // what the client did not take
	}
	client := plugin.NewClient(cfg)
	var inst *instance
	releaseThread := onForkThread(func() { inst, err = p.connect(client, cmd, pipes) })
	if err != nil {
		client.Kill()
		releaseThread()
		return nil, p.startError(err, tail)
	}
	inst.releaseThread = releaseThread
	return inst, nil
}

// connect does the handshake, puts the calls on the pipes (when there are
// any) and asks the plugin what it implements.
func (p *Plugin) connect(client *plugin.Client, cmd *exec.Cmd, pipes *pluginhost.ChannelPipes) (_ *instance, err error) {
	proto, err := client.Client() // starts the process and does the handshake
	if pipes != nil {
		pipes.CloseChildEnds()
	}
	if err != nil {
		return nil, err
	}
	raw, err := proto.Dispense(pluginhost.PluginName)
	if err != nil {
		return nil, fmt.Errorf("dispense: %w", err)
	}
	rpc, ok := raw.(*pluginhost.Client)
	grpcClient, isGRPC := proto.(*plugin.GRPCClient)
	if !ok || !isGRPC {
		return nil, fmt.Errorf("unexpected plugin client %T over %T", raw, proto)
	}
	defer func() {
		if err != nil {
			rpc.Close() // the channel's pipes; launch kills the process
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.StartTimeout.D())
	defer cancel()
	if pipes != nil {
		if err := rpc.UseChannel(ctx, pipes, maxReplyBytes, p.channelBroke); err != nil {
			// The gRPC connection carries the calls instead, a little slower.
			p.log.Warn("plugin calls go through gRPC's transport: the plugin's calls' channel could not be opened", "error", err)
		} else {
			p.log.Debug("plugin calls on the plugin's channel")
		}
	}
	info, err := rpc.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	if !info.HTTP() && !info.Instances {
		return nil, errors.New("describe: the plugin implements no kind")
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	inst := &instance{
		client: client, rpc: rpc, conn: grpcClient.Conn, pid: cmd.Process.Pid,
		info: info, started: time.Now(), cancel: stopWatch,
	}
	go inst.watchConn(watchCtx, p.wake)
	return inst, nil
}

// channelBroke is told why a plugin's calls' channel broke.
func (p *Plugin) channelBroke(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) {
		// The plugin closed its end: it is exiting, or says why in its
		// own log; the supervisor decides.
		p.log.Debug("the plugin closed its calls' channel", "error", err)
		p.wake()
	} else {
		p.log.Warn("plugin calls go through gRPC's transport until the plugin restarts: its calls' channel broke", "error", err)
	}
	p.showChannel()
}

// showChannel sets the channel gauge to whether the current instance's
// calls go on its channel; under channelMu, as the gauge is set from the
// supervisor and from a breaking call alike.
func (p *Plugin) showChannel() {
	p.channelMu.Lock()
	defer p.channelMu.Unlock()
	on := 0.0
	if inst := p.cur.Load(); inst != nil && inst.rpc.OnChannel() {
		on = 1
	}
	p.metrics.channel.Set(on)
}

// channelPipes makes the pipes of the plugin's calls' channel, where the
// host's callers write and read their calls themselves and one goroutine
// of the plugin answers each: the hot path's latency. Nil when there can
// be none: calls then go through gRPC's transport.
func (p *Plugin) channelPipes() *pluginhost.ChannelPipes {
	if os.Getenv(callsOnGRPCEnv) == "grpc" {
		p.log.Debug("plugin calls go through gRPC's transport", "reason", callsOnGRPCEnv+"=grpc")
		return nil
	}
	pipes, err := pluginhost.NewChannelPipes()
	if err != nil {
		p.log.Debug("plugin calls go through gRPC's transport", "error", err)
		return nil
	}
	return pipes
}

func (p *Plugin) startError(err error, tail *tailBuffer) error {
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		got := "unreadable"
		if b, rerr := os.ReadFile(p.path); rerr == nil {
			s := sha256.Sum256(b)
			got = hex.EncodeToString(s[:])
		}
		return fmt.Errorf("plugin %q: refusing to start %s: its sha256 is %s but the configuration says %s (rebuilt or replaced binary? update sha256 after checking it): %w",
			p.cfg.Name, p.path, got, strings.ToLower(p.cfg.SHA256), err)
	}
	msg := fmt.Sprintf("plugin %q: start %s: %v", p.cfg.Name, p.path, err)
	if out := tail.String(); out != "" {
		msg += "\nits last output:\n" + out
	}
	return &startErr{msg: msg, err: err}
}

type startErr struct {
	msg string
	err error
}

func (e *startErr) Error() string { return e.msg }
func (e *startErr) Unwrap() error { return e.err }

// env is the plugin's environment: PATH, TMPDIR and HOME from the host, the
// configured variables, and the host's log level.
func (p *Plugin) env() []string {
	var env []string
	for _, k := range []string{"PATH", "TMPDIR", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	keys := make([]string, 0, len(p.cfg.Env))
	for k := range p.cfg.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+p.cfg.Env[k])
	}
	return append(env, pluginhost.LogLevelEnv+"="+levelName(p.log))
}

// watchConn wakes the supervisor whenever the connection leaves the ready
// state, which is how a crashed plugin is noticed at once even when no call
// is in flight.
func (in *instance) watchConn(ctx context.Context, wake func()) {
	state := in.conn.GetState()
	for in.conn.WaitForStateChange(ctx, state) {
		state = in.conn.GetState()
		if state != connectivity.Ready {
			wake()
		}
	}
}

// healthy runs one health check.
func (in *instance) healthy(timeout time.Duration) error {
	if in.client.Exited() {
		return errors.New("process exited")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := healthpb.NewHealthClient(in.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: plugin.GRPCServiceName})
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	if res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health check: status %s", res.GetStatus())
	}
	return nil
}

// stop ends the process. A graceful stop asks the plugin to shut down and
// kills it after stopGrace; a hard stop kills it at once (it crashed or
// hangs). Either way the process group goes too, so nothing the plugin
// started outlives it, and the process is reaped.
func (in *instance) stop(graceful bool) {
	in.cancel()
	in.rpc.Close()
	if !graceful {
		killGroup(in.pid)
	}
	done := make(chan struct{})
	go func() {
		in.client.Kill() // closes the connection, waits for the process and reaps it
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stopGrace):
		killGroup(in.pid)
		<-done
	}
	killGroup(in.pid) // whatever the plugin started in its group
	if in.releaseThread != nil {
		in.releaseThread()
	}
}

var _ io.Writer = (*tailBuffer)(nil)
