package sdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// directConn is the host's fast path to a plugin: a connection of its own
// that carries one Calls stream, spoken without grpc-go's client transport.
// A caller writes its call to the socket itself and, when nobody else is
// reading, reads the answers itself, handing any others' to them. So a call
// made alone involves no other goroutine of the host. grpc-go puts a writer
// and a reader goroutine between a caller and the socket, and at a few
// thousand calls a second each hand-off wakes an idle thread, which on a
// small VM costs more than the call (docs/benchmarks.md, "Plugins"). On
// the wire it is still gRPC over HTTP/2, served by the plugin's grpc-go
// server like any other client's stream.
type directConn struct {
	conn    net.Conn
	maxRecv int

	// sendSlot is held while one message is sent, waits for flow-control
	// window included: one message's frames must not interleave with
	// another's on the stream.
	sendSlot chan struct{}
	msgBuf   []byte // under sendSlot

	wmu sync.Mutex // one write at a time: frames, then a flush
	bw  *bufio.Writer
	fw  *http2.Framer

	callTable

	mu          sync.Mutex    // the send windows
	connWin     int64         // bytes the plugin lets us send on the connection
	streamWin   int64         // and on the stream
	peerInitWin int64         // the plugin's SETTINGS_INITIAL_WINDOW_SIZE
	maxFrame    int64         // the plugin's SETTINGS_MAX_FRAME_SIZE
	grew        chan struct{} // closed when a send window grows, then replaced

	// readTurn is held by the caller reading the socket; the fields after
	// it are used only by that caller.
	readTurn      chan struct{}
	in            *frameReader
	headers       headerBlock
	sawHeaders    bool   // the stream's response headers arrived
	partial       []byte // the start of a message split over frames
	unackedConn   int    // bytes received and not yet given back as window
	unackedStream int
}

// callsStream is the stream id of the one Calls stream on a directConn.
const callsStream = 1

// dialDirect connects with dial and opens the Calls stream.
func dialDirect(ctx context.Context, dial func(context.Context) (net.Conn, error), maxRecv int) (*directConn, error) {
	conn, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	d := &directConn{
		conn:        conn,
		maxRecv:     maxRecv,
		sendSlot:    make(chan struct{}, 1),
		callTable:   newCallTable(),
		connWin:     initialWindow,
		streamWin:   initialWindow,
		peerInitWin: initialWindow,
		maxFrame:    frameSizeLimit,
		grew:        make(chan struct{}),
		readTurn:    make(chan struct{}, 1),
		in:          newFrameReader(conn),
	}
	d.headers.dec = hpack.NewDecoder(4096, nil)
	d.headers.dec.SetMaxStringLength(headerBlockLimit)
	d.bw = bufio.NewWriterSize(conn, 2*(9+frameSizeLimit))
	d.fw = http2.NewFramer(d.bw, nil)
	if err := d.open(ctx); err != nil {
		conn.Close()
		return nil, status.Errorf(codes.Unavailable, "plugin call connection: %v", err)
	}
	return d, nil
}

// initialWindow is HTTP/2's flow-control window until SETTINGS say otherwise.
const initialWindow = 65535

// open sends the connection preface, the host's settings and window, and
// the headers of the Calls stream. The plugin's settings are read with the
// first answer.
func (d *directConn) open(ctx context.Context) error {
	var hdr bytes.Buffer
	enc := hpack.NewEncoder(&hdr)
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", pluginv1.Plugin_Calls_FullMethodName},
		{":authority", "localhost"}, {"content-type", "application/grpc"}, {"te", "trailers"},
		{"user-agent", "meshbridge-plugin-host/" + Version},
	} {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			return err
		}
	}
	dl, _ := ctx.Deadline()
	return d.write(dl, func() error {
		if _, err := d.bw.WriteString(http2.ClientPreface); err != nil {
			return err
		}
		if err := d.fw.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: window}, http2.Setting{ID: http2.SettingEnablePush}); err != nil {
			return err
		}
		if err := d.fw.WriteWindowUpdate(0, window-initialWindow); err != nil {
			return err
		}
		return d.fw.WriteHeaders(http2.HeadersFrameParam{StreamID: callsStream, BlockFragment: hdr.Bytes(), EndHeaders: true})
	})
}

// write runs fn, which writes frames, and flushes them, with deadline as
// the write deadline (zero: none). A write that fails or times out leaves
// the stream unusable, so the connection is failed.
func (d *directConn) write(deadline time.Time, fn func() error) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	_ = d.conn.SetWriteDeadline(deadline) // an error here shows in the write
	err := fn()
	if err == nil {
		err = d.bw.Flush()
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = errors.New("a write has been blocked for " + stuckSend.String() + " past its call's deadline: the plugin is not reading")
		}
		d.fail(err)
		return d.err
	}
	return nil
}

// call sends req and waits for its answer, ctx's end, or the connection's.
func (d *directConn) call(ctx context.Context, id uint64, req *pluginv1.CallRequest) (*pluginv1.CallResponse, error) {
	ch, err := d.begin(ctx, id, req)
	if err != nil {
		return nil, err
	}
	var resp *pluginv1.CallResponse
	if err = d.send(ctx, req); err == nil {
		resp, err = readUntil(ctx, d, ch)
	}
	return d.finish(id, ch, resp, err)
}

// send writes req as one gRPC message, in as many DATA frames as the
// plugin's frame size and flow-control windows ask for.
func (d *directConn) send(ctx context.Context, req *pluginv1.CallRequest) error {
	select {
	case d.sendSlot <- struct{}{}:
	case <-ctx.Done():
		return ctxError(ctx)
	case <-d.done:
		return d.err
	}
	defer func() { <-d.sendSlot }()
	msg, err := proto.MarshalOptions{}.MarshalAppend(append(d.msgBuf[:0], 0, 0, 0, 0, 0), req)
	if err != nil {
		return status.Errorf(codes.Internal, "encode call: %v", err)
	}
	if cap(msg) <= 64<<10 { // keep the buffer, unless a big body grew it
		d.msgBuf = msg
	}
	binary.BigEndian.PutUint32(msg[1:5], uint32(len(msg)-5))
	var deadline time.Time
	if dl, ok := ctx.Deadline(); ok {
		deadline = dl.Add(stuckSend)
	}
	for rest := msg; len(rest) > 0; {
		d.mu.Lock()
		n, maxFrame, grew := min(int64(len(rest)), d.connWin, d.streamWin), d.maxFrame, d.grew
		if n > 0 {
			d.connWin -= n
			d.streamWin -= n
		}
		d.mu.Unlock()
		if n <= 0 {
			// The plugin has not read what it was sent. Wait for window,
			// reading if nobody else is; a plugin that reads nothing
			// for a whole call's time is stuck, and so is the stream.
			if _, err := readUntil(ctx, d, grew); err != nil {
				d.fail(err)
				return d.err
			}
			continue
		}
		chunk := rest[:n]
		rest = rest[n:]
		err := d.write(deadline, func() error {
			for len(chunk) > 0 {
				m := min(int64(len(chunk)), maxFrame)
				if err := d.fw.WriteData(callsStream, false, chunk[:m]); err != nil {
					return err
				}
				chunk = chunk[m:]
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// readUntil waits until ch yields, reading the socket while nobody else
// does, or until ctx or the connection ends.
func readUntil[T any](ctx context.Context, d *directConn, ch <-chan T) (T, error) {
	var zero T
	select {
	case v := <-ch:
		return v, nil
	case d.readTurn <- struct{}{}:
		defer func() { <-d.readTurn }()
	case <-ctx.Done():
		return zero, ctxError(ctx)
	case <-d.done:
		return zero, d.err
	}
	dl, hasDeadline := ctx.Deadline()
	_ = d.conn.SetReadDeadline(dl) // zero: none; an error here shows in the read
	if !hasDeadline && ctx.Done() != nil {
		// Wake the read when ctx ends. It may wake a later reader too,
		// which then reads on.
		stop := context.AfterFunc(ctx, func() { _ = d.conn.SetReadDeadline(time.Now()) })
		defer stop()
	}
	for {
		select {
		case v := <-ch:
			return v, nil
		default:
		}
		err := d.readFrame()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if ctx.Err() != nil || (hasDeadline && !time.Now().Before(dl)) {
				// The context's own timer may lag the socket's by a
				// moment; callers tell why a call ended by the context.
				<-ctx.Done()
				return zero, status.FromContextError(ctx.Err()).Err()
			}
			_ = d.conn.SetReadDeadline(dl) // it was set for an earlier reader
			continue
		}
		if err != nil {
			d.fail(err)
			return zero, d.err
		}
	}
}

// ctxError is the status error for ctx's end.
func ctxError(ctx context.Context) error { return status.FromContextError(ctx.Err()).Err() }

// readFrame reads and handles one frame.
func (d *directConn) readFrame() error {
	f, err := d.in.next()
	if err != nil {
		return err
	}
	switch f.typ {
	case http2.FrameData:
		return d.onData(f)
	case http2.FrameHeaders, http2.FrameContinuation:
		return d.onHeaders(f)
	case http2.FrameSettings:
		return d.onSettings(f)
	case http2.FramePing:
		if len(f.payload) != 8 {
			return protocolError("PING of the wrong size")
		}
		if f.flags&http2.FlagPingAck != 0 {
			return nil
		}
		data := [8]byte(f.payload)
		return d.write(time.Now().Add(stuckSend), func() error { return d.fw.WritePing(true, data) })
	case http2.FrameWindowUpdate:
		return d.onWindowUpdate(f)
	case http2.FrameGoAway:
		return status.Error(codes.Unavailable, "the plugin is going away")
	case http2.FrameRSTStream:
		if len(f.payload) != 4 {
			return protocolError("RST_STREAM of the wrong size")
		}
		if f.stream == callsStream {
			return status.Errorf(codes.Unavailable, "the plugin reset the call stream (%v)", http2.ErrCode(binary.BigEndian.Uint32(f.payload)))
		}
	}
	return nil // frames of no concern to one client stream
}

// onData takes the bytes of answers, hands out every complete one, and
// gives the window back once a quarter of it is used.
func (d *directConn) onData(f frame) error {
	d.unackedConn += len(f.payload)
	if f.stream != callsStream {
		return nil
	}
	d.unackedStream += len(f.payload)
	data, err := unpad(f)
	if err != nil {
		return err
	}
	if err := d.deliver(data); err != nil {
		return err
	}
	if f.flags&http2.FlagDataEndStream != 0 {
		return status.Error(codes.Unavailable, "the plugin ended the call stream")
	}
	if d.unackedConn < window/4 && d.unackedStream < window/4 {
		return nil
	}
	connInc, streamInc := d.unackedConn, d.unackedStream
	d.unackedConn, d.unackedStream = 0, 0
	return d.write(time.Now().Add(stuckSend), func() error {
		if err := d.fw.WriteWindowUpdate(0, uint32(connInc)); err != nil {
			return err
		}
		return d.fw.WriteWindowUpdate(callsStream, uint32(streamInc))
	})
}

// deliver splits data into gRPC messages (a flag byte, a 4-byte length,
// the message) and hands each answer to its caller; a message's start
// waits in partial for the rest.
func (d *directConn) deliver(data []byte) error {
	buf := data
	if len(d.partial) > 0 {
		d.partial = append(d.partial, data...)
		buf = d.partial
	}
	for len(buf) >= 5 {
		if buf[0] != 0 {
			return status.Error(codes.Internal, "plugin sent a compressed message, which the host did not ask for")
		}
		n := int(binary.BigEndian.Uint32(buf[1:5]))
		if d.maxRecv > 0 && n > d.maxRecv {
			return status.Errorf(codes.ResourceExhausted, "plugin sent a %d-byte answer; the limit is %d", n, d.maxRecv)
		}
		if len(buf) < 5+n {
			break
		}
		resp := &pluginv1.CallResponse{}
		if err := proto.Unmarshal(buf[5:5+n], resp); err != nil {
			return status.Errorf(codes.Internal, "decode answer: %v", err)
		}
		d.answer(resp)
		buf = buf[5+n:]
	}
	if len(buf) == 0 {
		d.partial = d.partial[:0]
		if cap(d.partial) > 64<<10 {
			d.partial = nil // a big answer's buffer is not kept
		}
		return nil
	}
	if len(d.partial) > 0 {
		d.partial = d.partial[:copy(d.partial, buf)] // buf is partial's tail
	} else {
		d.partial = append(d.partial[:0], buf...)
	}
	return nil
}

// onHeaders checks the stream's response headers; trailers end the stream
// with their status.
func (d *directConn) onHeaders(f frame) error {
	fields, done, err := d.headers.add(f)
	if err != nil || !done || d.headers.stream != callsStream {
		return err
	}
	if d.headers.endStream {
		return trailerStatus(fields)
	}
	if d.sawHeaders {
		return protocolError("second response headers")
	}
	d.sawHeaders = true
	for _, h := range fields {
		if h.Name == ":status" && h.Value != "200" {
			return status.Errorf(codes.Unavailable, "plugin answered the call stream with HTTP status %s", h.Value)
		}
	}
	return nil
}

// onSettings applies the plugin's settings and acknowledges them.
func (d *directConn) onSettings(f frame) error {
	if f.flags&http2.FlagSettingsAck != 0 {
		return nil
	}
	if len(f.payload)%6 != 0 {
		return protocolError("SETTINGS of the wrong size")
	}
	d.mu.Lock()
	for p := f.payload; len(p) > 0; p = p[6:] {
		id, val := http2.SettingID(binary.BigEndian.Uint16(p)), int64(binary.BigEndian.Uint32(p[2:]))
		switch id {
		case http2.SettingInitialWindowSize:
			if val > 1<<31-1 {
				d.mu.Unlock()
				return protocolError("initial window too large")
			}
			d.streamWin += val - d.peerInitWin
			d.peerInitWin = val
			d.windowGrewLocked()
		case http2.SettingMaxFrameSize:
			if val < 16<<10 || val > 1<<24-1 {
				d.mu.Unlock()
				return protocolError("bad max frame size")
			}
			d.maxFrame = val
		}
	}
	d.mu.Unlock()
	return d.write(time.Now().Add(stuckSend), func() error { return d.fw.WriteSettingsAck() })
}

func (d *directConn) onWindowUpdate(f frame) error {
	if len(f.payload) != 4 {
		return protocolError("WINDOW_UPDATE of the wrong size")
	}
	inc := int64(binary.BigEndian.Uint32(f.payload) & (1<<31 - 1))
	d.mu.Lock()
	defer d.mu.Unlock()
	switch f.stream {
	case 0:
		d.connWin += inc
	case callsStream:
		d.streamWin += inc
	default:
		return nil
	}
	d.windowGrewLocked()
	return nil
}

func (d *directConn) windowGrewLocked() {
	close(d.grew)
	d.grew = make(chan struct{})
}

// fail marks the connection broken and closes it; callers waiting on it
// give up.
func (d *directConn) fail(err error) {
	if d.end(err) {
		_ = d.conn.Close() // the error that matters is d.err
	}
}

func (d *directConn) close() { d.fail(errors.New("closed by the host")) }
