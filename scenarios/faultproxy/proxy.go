package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Proxy forwards connections from its listener to one upstream address.
type Proxy struct {
	ln       net.Listener
	upstream string
	log      *slog.Logger

	mu     sync.Mutex
	delay  time.Duration
	jitter time.Duration
	cut    bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// Listen opens the proxy's listener on addr ("127.0.0.1:0") for upstream.
func Listen(addr, upstream string, log *slog.Logger) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	return &Proxy{ln: ln, upstream: upstream, log: log.With("component", "faultproxy", "upstream", upstream), conns: map[net.Conn]struct{}{}}, nil
}

// Addr is the address callers dial instead of the upstream.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetUpstream changes where new connections go (a restarted container has
// new ports); existing connections keep theirs.
func (p *Proxy) SetUpstream(addr string) {
	p.mu.Lock()
	p.upstream = addr
	p.mu.Unlock()
}

// SetLatency delays every chunk sent back to callers by delay plus a
// uniformly random share of jitter; zero removes the latency.
func (p *Proxy) SetLatency(delay, jitter time.Duration) {
	p.mu.Lock()
	p.delay, p.jitter = delay, jitter
	p.mu.Unlock()
}

// Cut closes every open connection and refuses new ones until Heal.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	conns := p.conns
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

// Heal lets connections through again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// Serve accepts connections until ctx ends or Close, then closes every
// open connection and waits for the copies to end.
func (p *Proxy) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { p.ln.Close() })
	defer stop()
	defer func() {
		p.Cut()
		p.wg.Wait()
	}()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("faultproxy: accept: %w", err)
		}
		p.mu.Lock()
		refused, upstream := p.cut, p.upstream
		if !refused {
			p.conns[c] = struct{}{}
		}
		p.mu.Unlock()
		if refused {
			c.Close()
			continue
		}
		p.wg.Add(1)
		go p.pipe(c, upstream)
	}
}

// Close stops accepting; Serve then returns.
func (p *Proxy) Close() error { return p.ln.Close() }

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) forget(cs ...net.Conn) {
	p.mu.Lock()
	for _, c := range cs {
		delete(p.conns, c)
	}
	p.mu.Unlock()
}

func (p *Proxy) pipe(down net.Conn, upstream string) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", upstream, 5*time.Second)
	if err != nil || !p.track(up) {
		if err != nil {
			p.log.Debug("dial upstream failed", "error", err)
		} else {
			up.Close()
		}
		p.forget(down)
		down.Close()
		return
	}
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			down.Close()
			up.Close()
			p.forget(down, up)
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(up, down) // ends when either side closes; closeBoth reports nothing
		closeBoth()
	}()
	p.copyBack(down, up)
	closeBoth()
	<-done
}

// copyBack copies upstream answers to the caller, delaying each chunk.
func (p *Proxy) copyBack(down, up net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			p.mu.Lock()
			d := p.delay
			if p.jitter > 0 {
				d += rand.N(p.jitter)
			}
			p.mu.Unlock()
			if d > 0 {
				time.Sleep(d) // the connection's own goroutine: delaying it is the point
			}
			if _, werr := down.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
