package v2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/registry"
)

// Server is the Nacos gRPC server.
type Server struct {
	opts     Options
	log      *slog.Logger
	handlers map[string]handler

	mu        sync.Mutex
	conns     map[string]*conn
	byService map[registry.ServiceID]map[*conn]struct{}
	byConfig  map[string]map[*conn]struct{}
	tracker   *connTracker

	draining  atomic.Bool
	requestID atomic.Int64
	serving   atomic.Bool
}

// New returns a server; Serve runs it.
func New(opts Options) (*Server, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:      o,
		log:       o.Logger.With("component", "nacos.grpc"),
		conns:     map[string]*conn{},
		byService: map[registry.ServiceID]map[*conn]struct{}{},
		byConfig:  map[string]map[*conn]struct{}{},
	}
	s.handlers = s.handlerTable()
	return s, nil
}

// Serve accepts connections on ln until ctx ends, then drains: it stops
// accepting, ends every bi-stream (clients move to another server and
// register there again) and waits up to DrainTimeout for calls in flight.
// Instances of connections cut by the drain keep their leases, so a
// replica or this process after a restart can take them over without a
// gap; they expire if no client comes back.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("nacos grpc: Serve called twice")
	}
	s.tracker = &connTracker{Listener: ln, conns: map[string]net.Conn{}}
	gs := grpc.NewServer(
		grpc.ForceServerCodec(codec{}),
		grpc.StatsHandler(s),
		grpc.MaxRecvMsgSize(s.opts.MaxMessageBytes),
		grpc.MaxHeaderListSize(uint32(s.opts.MaxHeaderBytes)),
		grpc.ConnectionTimeout(10*time.Second),
		// The Go SDK pings every 60s even without streams: allow it.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
	)
	gs.RegisterService(&requestServiceDesc, s)
	gs.RegisterService(&biStreamServiceDesc, s)

	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	startRev := s.opts.Store.Revision()
	wg.Add(2)
	go func() { defer wg.Done(); s.pushLoop(bg, startRev) }()
	go func() { defer wg.Done(); s.maintainLoop(bg) }()
	cancelConfig := s.opts.ConfigHub.Listen(s.onConfigChange)

	errc := make(chan error, 1)
	go func() { errc <- gs.Serve(s.tracker) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.draining.Store(true)
	s.mu.Lock()
	for _, c := range s.conns {
		c.cancel() // ends its bi-stream
	}
	s.mu.Unlock()
	stopped := make(chan struct{})
	go func() { gs.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(s.opts.DrainTimeout):
		gs.Stop()
		<-stopped
	}
	cancelConfig()
	stopBG()
	wg.Wait()
	if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("nacos grpc: serve: %w", err)
	}
	return nil
}

type connKey struct{}

// TagConn creates the connection record; the RPC contexts inherit it.
func (s *Server) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	remote := info.RemoteAddr.String()
	host, port, _ := net.SplitHostPort(remote)
	id := fmt.Sprintf("%d_%s_%s", time.Now().UnixMilli(), host, port)
	c := newConn(context.Background(), id, remote)
	s.mu.Lock()
	s.conns[id] = c
	s.mu.Unlock()
	return context.WithValue(ctx, connKey{}, c)
}

// HandleConn cleans up when a transport ends.
func (s *Server) HandleConn(ctx context.Context, st stats.ConnStats) {
	if _, end := st.(*stats.ConnEnd); !end {
		return
	}
	if c, ok := ctx.Value(connKey{}).(*conn); ok {
		s.tracker.forget(c.remote)
		s.closeConn(c, "transport closed")
	}
}

// TagRPC and HandleRPC complete stats.Handler; per-RPC stats are not used.
func (s *Server) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

// HandleRPC ignores per-RPC events.
func (s *Server) HandleRPC(context.Context, stats.RPCStats) {}

func connFrom(ctx context.Context) *conn {
	c, _ := ctx.Value(connKey{}).(*conn)
	return c
}

// closeConn forgets a connection: its subscriptions and listens end and,
// unless the server is draining, its ephemeral instances are removed.
func (s *Server) closeConn(c *conn, reason string) {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	c.cancel()
	s.mu.Lock()
	delete(s.conns, c.id)
	c.mu.Lock()
	for k := range c.subs {
		s.unindexSubLocked(c, k.sid)
	}
	for storeKey := range c.configs {
		if set := s.byConfig[storeKey]; set != nil {
			delete(set, c)
			if len(set) == 0 {
				delete(s.byConfig, storeKey)
			}
		}
	}
	c.mu.Unlock()
	s.mu.Unlock()
	keys := c.publishedKeys()
	s.log.Debug("connection closed", "connection_id", c.id, "reason", reason, "instances", len(keys))
	if s.draining.Load() || len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, k := range keys {
		s.deregisterOwned(ctx, c, k)
	}
}

func (s *Server) unindexSubLocked(c *conn, sid registry.ServiceID) {
	for k := range c.subs {
		if k.sid == sid {
			return // another subscription of c still needs the service
		}
	}
	if set := s.byService[sid]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(s.byService, sid)
		}
	}
}

// deregisterOwned removes an instance if this connection still owns it: a
// client that moved to another replica may have registered it again there.
func (s *Server) deregisterOwned(ctx context.Context, c *conn, key registry.InstanceKey) {
	inst, err := s.opts.Store.Get(ctx, key)
	if err != nil {
		return // gone already
	}
	if inst.Attributes[attrConnection] != c.id {
		return
	}
	if _, err := s.opts.Store.Deregister(ctx, key); err != nil && !errors.Is(err, registry.ErrNotFound) {
		s.log.Error("deregister connection instance", "connection_id", c.id, "instance", key.String(), "error", err)
	}
}

func (s *Server) nextRequestID() string { return strconv.FormatInt(s.requestID.Add(1), 10) }

// Service descriptors of the package-less Nacos proto: /Request/request
// and /BiRequestStream/requestBiStream.
var requestServiceDesc = grpc.ServiceDesc{
	ServiceName: "Request",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "request",
		Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			var p Payload
			if err := dec(&p); err != nil {
				return nil, err
			}
			return srv.(*Server).handle(ctx, &p), nil
		},
	}},
	Metadata: "nacos_grpc_service.proto",
}

var biStreamServiceDesc = grpc.ServiceDesc{
	ServiceName: "BiRequestStream",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    "requestBiStream",
		ServerStreams: true,
		ClientStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			return srv.(*Server).biStream(stream)
		},
	}},
	Metadata: "nacos_grpc_service.proto",
}

// biStream runs one client's bi-directional stream: it reads the
// connection setup and the client's answers to server requests, and
// sends the connection's outbox.
func (s *Server) biStream(stream grpc.ServerStream) error {
	c := connFrom(stream.Context())
	if c == nil || c.closed.Load() {
		return status.Error(codes.Unavailable, "connection is closed")
	}
	if !c.streaming.CompareAndSwap(false, true) {
		return status.Error(codes.AlreadyExists, "connection already has a stream")
	}
	recvErr := make(chan error, 1)
	go func() {
		for {
			var p Payload
			if err := stream.RecvMsg(&p); err != nil {
				recvErr <- err
				return
			}
			s.onStreamPayload(c, &p)
		}
	}()
	for {
		select {
		case <-c.out.wake:
			for _, m := range c.out.take() {
				id := s.nextRequestID()
				body, err := m.build(id)
				if err != nil {
					s.log.Error("build server request", "type", m.typ, "error", err)
					continue
				}
				c.out.sent(id, m, time.Now())
				if err := stream.SendMsg(&Payload{Type: m.typ, Body: body}); err != nil {
					s.closeConn(c, "stream send failed")
					return err
				}
			}
		case <-recvErr:
			s.closeConn(c, "stream closed")
			return nil
		case <-c.ctx.Done():
			return status.Error(codes.Unavailable, "connection closed by server")
		}
	}
}

func (s *Server) onStreamPayload(c *conn, p *Payload) {
	c.touch()
	if p.Type == typeConnectionSetup {
		var req connectionSetupRequest
		if err := json.Unmarshal(p.Body, &req); err != nil {
			s.log.Warn("bad connection setup", "connection_id", c.id, "error", err)
			return
		}
		c.mu.Lock()
		c.clientVersion = req.ClientVersion
		c.mu.Unlock()
		c.registered.Store(true)
		return
	}
	var reply replyProbe
	if err := json.Unmarshal(p.Body, &reply); err != nil || reply.ResultCode == nil {
		s.log.Debug("ignored bi-stream payload", "connection_id", c.id, "type", p.Type)
		return
	}
	c.out.ack(reply.RequestID)
}
