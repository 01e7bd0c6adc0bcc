package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// request is one prepared HTTP/1.1 request: the bytes every send writes
// and the address they go to (the proxy's, when there is one).
type request struct {
	addr string
	wire []byte
	// head is for ReadResponse: the method decides whether a body follows.
	head *http.Request
}

// newRequest prepares method to target, in absolute form through proxy
// when proxy is set, with body unless the method takes none.
func newRequest(target, proxy, method string, body []byte) (*request, error) {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", target, err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("url %q: only http:// is supported", target)
	}
	addr, uri := hostPort(u), u.RequestURI()
	if proxy != "" {
		p, err := url.ParseRequestURI(proxy)
		if err != nil {
			return nil, fmt.Errorf("proxy %q: %w", proxy, err)
		}
		if p.Scheme != "http" {
			return nil, fmt.Errorf("proxy %q: only http:// is supported", proxy)
		}
		addr, uri = hostPort(p), u.String()
	}
	if method == http.MethodGet || method == http.MethodHead {
		body = nil
	}
	wire := fmt.Appendf(nil, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: meshbridge-bench\r\n", method, uri, u.Host)
	if body != nil {
		wire = fmt.Appendf(wire, "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n", len(body))
	}
	wire = append(append(wire, "\r\n"...), body...)
	return &request{addr: addr, wire: wire, head: &http.Request{Method: method}}, nil
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// conn is one keep-alive connection that sends a request and reads its
// answer on the caller's goroutine: no goroutine of net/http's Transport
// between them, so that the load generator, which shares the machine with
// what it measures, wakes as few threads per request as it can.
type conn struct {
	req *request
	c   net.Conn
	br  *bufio.Reader
}

func newConn(req *request) *conn { return &conn{req: req} }

// timeout bounds one request on the wire.
const timeout = 10 * time.Second

// send sends the request and reads the whole answer, reporting how long
// that took. A failed connection is closed; the next send dials anew.
func (c *conn) send() (time.Duration, error) {
	start := time.Now()
	if c.c == nil {
		nc, err := net.DialTimeout("tcp", c.req.addr, timeout)
		if err != nil {
			return 0, err
		}
		c.c = nc
		if c.br == nil {
			c.br = bufio.NewReaderSize(nc, 16<<10)
		} else {
			c.br.Reset(nc)
		}
	}
	err := c.roundTrip(start)
	if err != nil && c.c != nil {
		c.close()
	}
	return time.Since(start), err
}

func (c *conn) roundTrip(start time.Time) error {
	if err := c.c.SetDeadline(start.Add(timeout)); err != nil {
		return err
	}
	if _, err := c.c.Write(c.req.wire); err != nil {
		return err
	}
	closing, err := readAnswer(c.br, c.req.head)
	if closing {
		c.close() // the server ends the connection
	}
	return err
}

// readAnswer reads one whole answer to head, which must be a 200; closing
// reports that the server closes the connection after it.
func readAnswer(br *bufio.Reader, head *http.Request) (closing bool, err error) {
	resp, err := http.ReadResponse(br, head)
	if err != nil {
		return true, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return true, err
	case resp.StatusCode != http.StatusOK:
		return resp.Close, fmt.Errorf("status %d", resp.StatusCode)
	}
	return resp.Close, nil
}

func (c *conn) close() {
	if c.c != nil {
		_ = c.c.Close() // nothing more to read or write on it
		c.c = nil
	}
}
