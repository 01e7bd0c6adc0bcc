package wire

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// Dispatch runs one call with the plugin's handler and returns its answer
// (ErrorResponse for a failed call). Its context carries the host's
// deadline for the call and ends when the stream the call came on does.
type Dispatch func(ctx context.Context, req *pluginv1.CallRequest) *pluginv1.CallResponse

// Server is the plugin's side of the calls: it serves the Calls stream and
// the calls' channel with one Dispatch. It is the gRPC service but for
// Describe, which package sdk adds by embedding it.
type Server struct {
	pluginv1.UnimplementedPluginServer
	dispatch   Dispatch
	sequential bool
	log        *slog.Logger
	// channel, when set, serves the calls on the pipes the host passed;
	// it is set before the gRPC server starts.
	channel *channel
}

// NewServer serves calls with dispatch; sequential serves each stream's
// calls one at a time (sdk.ServeConfig.Sequential).
func NewServer(dispatch Dispatch, sequential bool, logger *slog.Logger) *Server {
	return &Server{dispatch: dispatch, sequential: sequential, log: logger}
}

// ServeInheritedChannel serves the calls' channel on the pipes this
// process inherited from its host, if it did (stop is then not nil: it
// closes the channel). An error says why the pipes it was given cannot
// carry calls; the host then makes its calls on the Calls stream.
func (s *Server) ServeInheritedChannel() (stop func(), err error) {
	if !inheritedChannelSet {
		return nil, nil
	}
	ch, err := openInheritedChannel(inheritedChannel, s)
	if err != nil {
		return nil, err
	}
	s.channel = ch
	return ch.close, nil
}

// OpenChannel tells the host the plugin serves calls on the pipes it was
// given, when it was given them.
func (s *Server) OpenChannel(_ context.Context, m *pluginv1.ChannelRequest) (*pluginv1.ChannelOffer, error) {
	switch {
	case m.GetVersion() != channelVersion:
		return nil, status.Errorf(codes.Unimplemented, "the plugin speaks channel version %d, the host %d", channelVersion, m.GetVersion())
	case s.channel == nil:
		return nil, status.Error(codes.Unimplemented, "the host passed the plugin no usable pipes for its calls")
	case s.channel.ended():
		return nil, status.Error(codes.Unimplemented, "the plugin's calls' channel has ended")
	case len(m.GetKey()) != channelKeySize:
		return nil, status.Errorf(codes.InvalidArgument, "the channel's key must be %d bytes, got %d", channelKeySize, len(m.GetKey()))
	case !s.channel.open(m.GetKey()):
		return nil, status.Error(codes.FailedPrecondition, "the plugin's calls' channel was opened already")
	}
	return &pluginv1.ChannelOffer{Network: "pipes"}, nil
}

// Calls serves the host's call stream over gRPC.
func (s *Server) Calls(stream pluginv1.Plugin_CallsServer) error {
	err := s.serveCalls(stream.Context(), stream.Recv, stream.Send)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// serveCalls serves one stream of calls, received by recv and answered by
// send, until recv fails, and returns that error. Its goroutines take
// turns at receiving: the one that receives a call leaves the turn to
// another (an idle one, or a new one when none is idle) and answers the
// call itself. So a call runs where it arrived, without a hand-off to a
// new goroutine (a wake-up, and a stack to grow, on every call), and a
// slow call still holds up no other. With sequential set one goroutine
// keeps the turn and answers each call before the next.
func (s *Server) serveCalls(ctx context.Context, recv func() (*pluginv1.CallRequest, error), send func(*pluginv1.CallResponse) error) error {
	c := &callServer{s: s, ctx: ctx, recv: recv, sendFn: send}
	c.serve()
	// Answers must not be sent after this method returns.
	c.wg.Wait()
	return c.err
}

// maxIdle is how many goroutines may wait for their turn at receiving;
// more than that, after a burst of slow calls, end.
const maxIdle = 4

// callServer is one stream of calls being served.
type callServer struct {
	s      *Server
	ctx    context.Context
	recv   func() (*pluginv1.CallRequest, error) // under turn
	sendFn func(*pluginv1.CallResponse) error    // under send

	turn sync.Mutex // held by the goroutine receiving
	idle atomic.Int32
	err  error // why receiving ended (under turn); then every goroutine ends
	send sync.Mutex
	wg   sync.WaitGroup
}

func (c *callServer) serve() {
	for {
		// Checked before counting itself, so that idle counts only
		// goroutines that will take the turn: the receiver relies on it.
		if c.idle.Load() >= maxIdle {
			return // enough others wait for the turn
		}
		c.idle.Add(1)
		c.turn.Lock()
		c.idle.Add(-1)
		if c.err != nil {
			c.turn.Unlock()
			return
		}
		req, err := c.recv()
		if err != nil {
			c.err = err
			c.turn.Unlock()
			return
		}
		if c.s.sequential { // the receiver keeps the turn while it answers
			c.answer(req)
			c.turn.Unlock()
			continue
		}
		if c.idle.Load() == 0 {
			// Nobody waits for the turn: start someone, so that the next
			// call is received while this one runs.
			c.wg.Go(c.serve)
		}
		c.turn.Unlock()
		c.answer(req)
	}
}

// answer runs req's handler, within the deadline the host gave the call,
// and sends its answer.
func (c *callServer) answer(req *pluginv1.CallRequest) {
	ctx := c.ctx
	if d := req.GetDeadlineUnixNano(); d != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, d))
		defer cancel()
	}
	resp := c.s.dispatch(ctx, req)
	c.send.Lock()
	_ = c.sendFn(resp) // a failed send means the stream is gone, which recv reports
	c.send.Unlock()
}

// ErrorResponse answers call id with err, as a gRPC status.
func ErrorResponse(id uint64, err error) *pluginv1.CallResponse {
	st := status.Convert(err)
	return &pluginv1.CallResponse{Id: id, Result: &pluginv1.CallResponse_Error{Error: &pluginv1.CallError{Code: int32(st.Code()), Message: st.Message()}}}
}
