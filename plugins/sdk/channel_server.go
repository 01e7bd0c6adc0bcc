package sdk

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
	"github.com/meshbridge/meshbridge/plugins/sdk/quietconn"
)

// channel is the plugin's end of the calls' channel (see OpenChannel in
// plugin.proto): a Unix socket in a directory of its own, mode 0700, and
// the token a connection must start with. Between processes it is the
// cheapest path a call can take: one goroutine reads the call, runs the
// handler and writes the answer, where gRPC's server puts a reader and a
// writer goroutine (and TLS) around the handler, each a wake-up.
type channel struct {
	srv   *server
	log   *slog.Logger
	dir   string
	ln    net.Listener
	token []byte
	// ctx ends when the channel closes: the handlers' contexts derive from it.
	ctx  context.Context
	stop context.CancelFunc

	// unproven holds a slot for each connection that has not yet shown
	// the token: a few at most, so that a flood of connections to the
	// socket costs the plugin little.
	unproven chan struct{}

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// channelSocketName is the name of the channel's socket in its directory.
const channelSocketName = "calls.sock"

// tokenWait is how long a new connection has to present the token.
const tokenWait = 5 * time.Second

// openChannel listens on a new socket in a private directory under dir
// (the system's temporary directory when empty; /tmp when that path would
// be too long for a socket) and serves calls to srv on it until close.
func openChannel(srv *server, logger *slog.Logger, dir string) (*channel, error) {
	ln, d, err := listenChannel(dir)
	if err != nil && dir != "/tmp" && runtime.GOOS != "windows" {
		ln, d, err = listenChannel("/tmp")
	}
	if err != nil {
		return nil, err
	}
	return newChannel(srv, logger, ln, d)
}

// maxSocketPath is the longest socket path the systems take (108 bytes on
// Linux, 104 on macOS, the final NUL included).
const maxSocketPath = 103

// listenChannel makes the private directory under dir and listens on the
// socket in it.
func listenChannel(dir string) (net.Listener, string, error) {
	d, err := os.MkdirTemp(dir, "mbp") // 0700
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(d, channelSocketName)
	if len(path) > maxSocketPath {
		_ = os.RemoveAll(d)
		return nil, "", fmt.Errorf("socket path %s is longer than %d bytes", path, maxSocketPath)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		_ = os.RemoveAll(d)
		return nil, "", err
	}
	return ln, d, nil
}

// newChannel serves calls to srv on ln, whose socket is in dir.
func newChannel(srv *server, logger *slog.Logger, ln net.Listener, dir string) (*channel, error) {
	ch := &channel{srv: srv, log: logger, dir: dir, ln: ln, token: make([]byte, tokenSize),
		unproven: make(chan struct{}, 8), conns: map[net.Conn]struct{}{}}
	ch.ctx, ch.stop = context.WithCancel(context.Background())
	if _, err := rand.Read(ch.token); err != nil {
		ch.close()
		return nil, err
	}
	ch.wg.Go(ch.accept)
	return ch, nil
}

// offer is what OpenChannel answers.
func (ch *channel) offer() *pluginv1.ChannelOffer {
	return &pluginv1.ChannelOffer{Network: "unix", Address: ch.ln.Addr().String(), Token: ch.token}
}

// accept serves each connection until the channel closes. An accept that
// fails for want of resources (descriptors, buffers) is tried again after
// a pause, as net/http does: giving up would leave the socket taking
// connections nobody serves.
func (ch *channel) accept() {
	var pause time.Duration
	for {
		conn, err := ch.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			ch.log.Warn("calls' channel: accept failed, trying again", "error", err, "in", pause.String())
			select {
			case <-time.After(pause):
				continue
			case <-ch.ctx.Done():
				return
			}
		}
		pause = 0
		select {
		case ch.unproven <- struct{}{}: // released once the token is checked
		default:
			_ = conn.Close() // the host makes one connection at a time
			continue
		}
		if !ch.track(conn) {
			_ = conn.Close()
			return
		}
		ch.wg.Go(func() {
			defer ch.untrack(conn)
			ch.serveConn(quietconn.Wrap(conn))
		})
	}
}

// serveConn checks the connection's token, then serves its calls until the
// host closes it.
func (ch *channel) serveConn(conn net.Conn) {
	token := make([]byte, tokenSize)
	_ = conn.SetReadDeadline(time.Now().Add(tokenWait)) // an error here shows in the read
	_, err := io.ReadFull(conn, token)
	<-ch.unproven
	if err != nil || subtle.ConstantTimeCompare(token, ch.token) != 1 {
		ch.log.Warn("refused a connection to the calls' channel: it did not start with the token")
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	// The handlers of this connection's calls end with it: the host gave
	// up on their answers.
	ctx, cancel := context.WithCancel(ch.ctx)
	defer cancel()
	in := newMsgReader(conn, maxCallBytes)
	var out []byte // under the callServer's send lock
	recv := func() (*pluginv1.CallRequest, error) {
		req := &pluginv1.CallRequest{}
		msg, err := in.next()
		if err == nil {
			err = proto.Unmarshal(msg, req)
		}
		if err != nil {
			cancel() // receiving is over: so is every call of the connection
			return nil, err
		}
		return req, nil
	}
	send := func(resp *pluginv1.CallResponse) error {
		var err error
		if out, err = appendMsg(out[:0], resp); err != nil {
			// An answer that cannot be encoded (invalid UTF-8 in a
			// string) fails its call, not the channel.
			resp = errorResponse(resp.GetId(), status.Errorf(codes.Internal, "encode answer: %v", err))
			if out, err = appendMsg(out[:0], resp); err != nil {
				return err
			}
		}
		_, err = conn.Write(out)
		if cap(out) > 64<<10 {
			out = nil // a big answer's buffer is not kept
		}
		return err
	}
	err = ch.srv.serveCalls(ctx, recv, send)
	// The host closing its end is the normal end (a reset when it closed
	// with answers unread).
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
		ch.log.Warn("calls' channel connection ended", "error", err)
	}
}

func (ch *channel) track(conn net.Conn) bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.closed {
		return false
	}
	ch.conns[conn] = struct{}{}
	return true
}

func (ch *channel) untrack(conn net.Conn) {
	ch.mu.Lock()
	delete(ch.conns, conn)
	ch.mu.Unlock()
	_ = conn.Close()
}

// close stops accepting, closes the connections (a call in flight fails on
// the host's side, where its failure policy decides) and removes the
// socket's directory.
func (ch *channel) close() {
	ch.mu.Lock()
	ch.closed = true
	for c := range ch.conns {
		_ = c.Close()
	}
	ch.mu.Unlock()
	_ = ch.ln.Close()
	ch.stop()
	done := make(chan struct{})
	go func() { ch.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		ch.log.Warn("calls' channel closed with handlers still running: they ignore their context")
	}
	_ = os.RemoveAll(ch.dir)
}

// closeWait is how long close waits for handlers to return.
const closeWait = 2 * time.Second
