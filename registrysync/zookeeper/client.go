package zookeeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// maxPacketBytes bounds what the client reads in one answer (go-zookeeper
// reads without a bound otherwise). A listing of 100,000 instance ids fits.
const maxPacketBytes = 16 << 20

// errClosed is what calls on a closed connector get.
var errClosed = errors.New("connector closed")

// openACL is Curator's default for the nodes it creates, and Spring's.
var openACL = zk.WorldACL(zk.PermAll)

// client is one ZooKeeper connection of the connector (the source's or
// the sink's) and the state of its session.
type client struct {
	conn  *zk.Conn
	links *links

	mu    sync.Mutex
	ready chan struct{} // closed while the connection holds a session
}

// dial starts a connection; it connects in the background, and
// waitSession tells when it holds a session. onEvent, when set, sees every
// event (session states and watch events) on the client's reading
// goroutine, so it must not block.
func dial(cfg *Config, dialer zk.Dialer, logger *slog.Logger, onEvent func(zk.Event)) (*client, error) {
	c := &client{links: &links{dial: dialer}, ready: make(chan struct{})}
	conn, _, err := zk.Connect(cfg.Servers, cfg.SessionTimeout,
		zk.WithDialer(c.links.Dial),
		zk.WithHostProvider(&promptHosts{inner: zk.NewDNSHostProvider()}),
		zk.WithLogger(zkLogger{logger}),
		zk.WithLogInfo(false),
		zk.WithMaxBufferSize(maxPacketBytes),
		zk.WithEventCallback(func(ev zk.Event) {
			c.observe(ev)
			if onEvent != nil {
				onEvent(ev)
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("connect %v: %w", cfg.Servers, err)
	}
	c.conn = conn
	return c, nil
}

func (c *client) observe(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.ready:
		if ev.State != zk.StateHasSession {
			c.ready = make(chan struct{})
		}
	default:
		if ev.State == zk.StateHasSession {
			close(c.ready)
		}
	}
}

// waitSession waits until the connection holds a session.
func (c *client) waitSession(ctx context.Context) error {
	c.mu.Lock()
	ready := c.ready
	c.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no session with %s: %w", c.conn.Server(), ctx.Err())
	}
}

// close ends the connection. With abandon set the session is not closed
// but left to time out: its ephemeral nodes stay until then, for a peer
// to take over; without, the server ends the session and its nodes now.
func (c *client) close(abandon bool) {
	if abandon {
		c.links.cut()
	}
	c.conn.Close()
}

// links dials a client's connections and can cut them all for good. A
// client whose links are cut can neither reach the server nor close its
// session, which the server then ends when it times out.
type links struct {
	dial zk.Dialer // nil: net.DialTimeout

	mu    sync.Mutex
	isCut bool
	live  net.Conn
}

var errCut = errors.New("connection abandoned")

// Dial implements zk.Dialer.
func (l *links) Dial(network, address string, timeout time.Duration) (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isCut {
		return nil, errCut
	}
	dial := l.dial
	if dial == nil {
		dial = net.DialTimeout
	}
	conn, err := dial(network, address, timeout)
	if err != nil {
		return nil, err
	}
	l.live = conn // go-zookeeper holds one connection at a time
	return conn, nil
}

func (l *links) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.isCut = true
	if l.live != nil {
		_ = l.live.Close() // the client sees the connection end, as it should
	}
}

// promptHosts reconnects at once after a connection that held a session
// ends, and twice: once to learn that the session expired, once for a new
// session. go-zookeeper's own provider waits a second before every
// attempt to a single server, which would spend two of the seconds a
// copy may be missing after an expiry. Later attempts wait as it does.
type promptHosts struct {
	inner  zk.HostProvider
	mu     sync.Mutex
	prompt int
}

const promptAttempts = 2

func (p *promptHosts) Init(servers []string) error { return p.inner.Init(servers) }
func (p *promptHosts) Len() int                    { return p.inner.Len() }

func (p *promptHosts) Next() (string, bool) {
	server, retryStart := p.inner.Next()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.prompt > 0 {
		p.prompt--
		return server, false
	}
	return server, retryStart
}

func (p *promptHosts) Connected() {
	p.inner.Connected()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prompt = promptAttempts
}

// zkLogger passes go-zookeeper's messages (connects, retries) to the
// connector's logger at debug level: the connector logs what matters
// (sessions lost and granted, failed listings and writes) itself.
type zkLogger struct{ logger *slog.Logger }

func (l zkLogger) Printf(format string, args ...any) {
	l.logger.Debug(fmt.Sprintf(format, args...), "source", "go-zookeeper")
}
