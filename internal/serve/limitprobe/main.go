// Command limitprobe plays the clients that abuse a server's limits, so
// that scripts/listener-limits.sh can show how a listener bears them. In
// slowbody mode many connections each send a request head announcing a
// body, then one body byte every interval; it reports how many
// connections the server still holds when the time is up. In bigbody mode
// a few concurrent requests send large bodies as fast as the server reads
// them; it reports the answers, and the script measures the server's
// memory around it.
//
//	go run ./internal/serve/limitprobe -mode slowbody -url http://127.0.0.1:8700/api/v1/instances -conns 100 -every 2s -for 70s
//	go run ./internal/serve/limitprobe -mode bigbody -url http://127.0.0.1:8848/nacos/v1/ns/instance -conns 10 -bytes 10485760
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

type config struct {
	mode        string
	target      *url.URL
	conns       int
	every       time.Duration
	runFor      time.Duration
	bytes       int64
	contentType string
}

func main() {
	var c config
	var rawURL string
	flag.StringVar(&c.mode, "mode", "slowbody", "slowbody or bigbody")
	flag.StringVar(&rawURL, "url", "", "request URL (POST)")
	flag.IntVar(&c.conns, "conns", 100, "connections (slowbody) or concurrent requests (bigbody)")
	flag.DurationVar(&c.every, "every", 2*time.Second, "slowbody: time between body bytes")
	flag.DurationVar(&c.runFor, "for", 70*time.Second, "slowbody: how long to keep trickling before counting")
	flag.Int64Var(&c.bytes, "bytes", 100000, "announced body size in bytes (Content-Length)")
	flag.StringVar(&c.contentType, "content-type", "application/x-www-form-urlencoded", "the request's Content-Type")
	flag.Parse()
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		fmt.Fprintln(os.Stderr, "limitprobe: -url must be an absolute http URL")
		os.Exit(2)
	}
	c.target = u
	switch c.mode {
	case "slowbody":
		err = slowBody(c)
	case "bigbody":
		err = bigBody(c)
	default:
		err = fmt.Errorf("unknown mode %q", c.mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "limitprobe:", err)
		os.Exit(1)
	}
}

// slowBody opens the connections, trickles their bodies and counts the
// ones the server has neither answered nor closed when the time is up.
func slowBody(c config) error {
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		c.target.RequestURI(), c.target.Host, c.contentType, c.bytes)
	start := time.Now()
	var mu sync.Mutex
	var cutAfter []time.Duration
	conns := make([]net.Conn, 0, c.conns)
	cut := make([]chan struct{}, 0, c.conns)
	for range c.conns {
		conn, err := net.DialTimeout("tcp", c.target.Host, 5*time.Second)
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, head); err != nil {
			return fmt.Errorf("write head: %w", err)
		}
		done := make(chan struct{})
		conns = append(conns, conn)
		cut = append(cut, done)
		// Anything the server sends (an answer, a close) ends the wait:
		// the connection no longer holds a request open.
		go func() {
			io.Copy(io.Discard, conn) // returns when the server answers and closes, or closes
			mu.Lock()
			cutAfter = append(cutAfter, time.Since(start))
			mu.Unlock()
			close(done)
		}()
	}
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	deadline := time.After(c.runFor)
	sent := int64(0)
trickle:
	for sent < c.bytes-1 { // never finish a body: the last byte is held back
		select {
		case <-deadline:
			break trickle
		case <-tick.C:
		}
		for i, conn := range conns {
			select {
			case <-cut[i]:
				continue
			default:
			}
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			conn.Write([]byte{'a'}) // a failed write shows up as a cut connection
		}
		sent++
	}
	mu.Lock()
	defer mu.Unlock()
	held := len(conns) - len(cutAfter)
	fmt.Printf("slowbody %s: %d of %d connections still held after %v (one body byte every %v)\n",
		c.target, held, len(conns), c.runFor, c.every)
	if len(cutAfter) > 0 {
		sort.Slice(cutAfter, func(i, j int) bool { return cutAfter[i] < cutAfter[j] })
		fmt.Printf("  cut by the server between %v and %v after the connections opened\n",
			cutAfter[0].Round(100*time.Millisecond), cutAfter[len(cutAfter)-1].Round(100*time.Millisecond))
	}
	return nil
}

// bigBody sends the large requests at once and tallies the answers.
func bigBody(c config) error {
	client := &http.Client{Timeout: 2 * time.Minute}
	var mu sync.Mutex
	tally := map[string]int{}
	var slowest time.Duration
	var wg sync.WaitGroup
	for range c.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			req, err := http.NewRequest(http.MethodPost, c.target.String(), formBody(c.bytes))
			if err != nil {
				panic(err) // the URL was checked in main
			}
			req.ContentLength = c.bytes
			req.Header.Set("Content-Type", c.contentType)
			outcome := ""
			resp, err := client.Do(req)
			if err != nil {
				outcome = "error: " + shortError(err)
			} else {
				io.Copy(io.Discard, resp.Body) // drained so the answer is whole; its text is not needed
				resp.Body.Close()
				outcome = resp.Status
			}
			mu.Lock()
			tally[outcome]++
			slowest = max(slowest, time.Since(began))
			mu.Unlock()
		}()
	}
	wg.Wait()
	fmt.Printf("bigbody %s: %d requests of %d bytes each, slowest answered in %v\n",
		c.target, c.conns, c.bytes, slowest.Round(time.Millisecond))
	for outcome, n := range tally {
		fmt.Printf("  %d × %s\n", n, outcome)
	}
	return nil
}

// formBody is a form that names a service and then pads a metadata value
// to n bytes, generated as it is sent so the client holds none of it.
func formBody(n int64) io.Reader {
	prefix := "serviceName=probe&ip=10.0.0.1&port=8080&metadata="
	return io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeatReader('a'), n-int64(len(prefix))))
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func shortError(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
