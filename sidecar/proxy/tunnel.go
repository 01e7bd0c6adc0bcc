package proxy

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/httpx"
)

// tunnel splices two connections: an upgraded request (WebSocket and the
// like) or a CONNECT. Bytes are copied both ways until both directions
// have ended. A direction that ends cleanly (EOF) is passed on as a
// half-close, so the other side reads EOF and may still answer; one that
// fails cuts both connections, since a broken side can no longer send
// what the other is owed.
type tunnel struct {
	client io.ReadWriteCloser
	// fromClient reads the client's bytes, starting with those the
	// server had already buffered after the request head.
	fromClient io.Reader
	upstream   io.ReadWriteCloser
	// idle closes the tunnel after this long without a byte either way
	// (0: never).
	idle time.Duration

	last    atomic.Int64 // unix nanoseconds of the last byte copied, when idle is set
	cutOnce sync.Once

	mu    sync.Mutex
	timer *time.Timer // the idle check, when idle is set
	ended bool
}

// run copies until both directions end, then closes both connections.
func (t *tunnel) run() {
	if t.idle > 0 {
		t.touch()
		t.mu.Lock()
		t.timer = time.AfterFunc(t.idle, t.checkIdle)
		t.mu.Unlock()
		defer t.stopIdle()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.pipe(t.upstream, t.fromClient)
	}()
	t.pipe(t.client, t.upstream)
	<-done
	t.cut()
}

// pipe copies src to dst until src ends, then half-closes dst; a failure
// on either side cuts the tunnel.
func (t *tunnel) pipe(dst io.Writer, src io.Reader) {
	bp := httpx.CopyBuffers.Get().(*[]byte)
	defer httpx.CopyBuffers.Put(bp)
	buf := *bp
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if t.idle > 0 {
				t.touch()
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				t.cut()
				return
			}
		}
		if err == io.EOF {
			if cerr := httpx.CloseWrite(dst); cerr != nil {
				t.cut() // the other side would never learn this one ended
			}
			return
		}
		if err != nil {
			t.cut()
			return
		}
	}
}

// cut closes both connections; the copies see errors and end.
func (t *tunnel) cut() {
	t.cutOnce.Do(func() {
		_ = t.client.Close() // ending the tunnel is the point; nothing to do about a failure
		_ = t.upstream.Close()
	})
}

func (t *tunnel) touch() { t.last.Store(time.Now().UnixNano()) }

// checkIdle runs on the idle timer: it cuts the tunnel once it was quiet
// for t.idle, else looks again when that time would be up.
func (t *tunnel) checkIdle() {
	quiet := time.Since(time.Unix(0, t.last.Load()))
	if quiet >= t.idle {
		t.cut()
		return
	}
	t.mu.Lock()
	if !t.ended {
		t.timer.Reset(t.idle - quiet)
	}
	t.mu.Unlock()
}

func (t *tunnel) stopIdle() {
	t.mu.Lock()
	t.ended = true
	t.timer.Stop()
	t.mu.Unlock()
}
