package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runH2C sends rounds of h2c (prior knowledge) requests to a sidecar and,
// before and after each round, reads the sidecar's memory: its Go heap
// after a forced collection (the admin listener's pprof, admin.pprof:
// true), its goroutines, and the resident set of -pid. It is how issue 17
// measured failed upstream h2c connections staying in memory.
func runH2C(args []string) error {
	fs := flag.NewFlagSet("h2c", flag.ContinueOnError)
	target := fs.String("url", "http://127.0.0.1:15006/", "URL to send GET requests to (the ingress)")
	admin := fs.String("admin", "http://127.0.0.1:15000", "the sidecar's admin URL")
	pid := fs.Int("pid", 0, "the sidecar's process ID, for its resident set")
	n := fs.Int("n", 5000, "requests per round")
	rounds := fs.Int("rounds", 4, "rounds")
	conns := fs.Int("conns", 16, "requests in flight at once")
	grpc := fs.Bool("grpc", false, "send Content-Type: application/grpc")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: p}, Timeout: 30 * time.Second}
	fmt.Println("before:", readMemory(*admin, *pid))
	for r := 1; r <= *rounds; r++ {
		start := time.Now()
		answers := sendH2C(client, *target, *n, *conns, *grpc)
		fmt.Printf("round %d: %d requests in %v, answers %s\n", r, *n, time.Since(start).Round(time.Millisecond), answers)
		fmt.Printf("after round %d: %s\n", r, readMemory(*admin, *pid))
	}
	return nil
}

// sendH2C sends n GETs from conns goroutines and counts the answers by
// status, X-Mesh-Error and grpc-status (or by error).
func sendH2C(client *http.Client, target string, n, conns int, grpc bool) string {
	var next atomic.Int64
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				key := answerOf(client, target, grpc)
				mu.Lock()
				counts[key]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, fmt.Sprintf("%s: %d", k, counts[k]))
	}
	sort.Strings(keys)
	return "[" + strings.Join(keys, ", ") + "]"
}

func answerOf(client *http.Client, target string, grpc bool) string {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return "error " + err.Error()
	}
	if grpc {
		req.Header.Set("Content-Type", "application/grpc")
	}
	resp, err := client.Do(req)
	if err != nil {
		return "error " + err.Error()
	}
	_, _ = io.Copy(io.Discard, resp.Body) // the trailers come after the body
	resp.Body.Close()
	key := strconv.Itoa(resp.StatusCode)
	if e := resp.Header.Get("X-Mesh-Error"); e != "" {
		key += " " + e
	}
	if s := resp.Header.Get("Grpc-Status") + resp.Trailer.Get("Grpc-Status"); s != "" {
		key += " grpc-status " + s
	}
	return key
}

// readMemory reads the heap after a forced collection and the goroutines
// from the admin listener's pprof, and the resident set of pid.
func readMemory(admin string, pid int) string {
	heap := pprofLine(admin+"/debug/pprof/heap?gc=1&debug=1", "# HeapAlloc = ")
	goroutines := pprofLine(admin+"/debug/pprof/goroutine?debug=1", "goroutine profile: total ")
	if b, err := strconv.ParseFloat(heap, 64); err == nil {
		heap = fmt.Sprintf("%.1f MB", b/1e6)
	}
	out := "heap after GC " + heap + ", goroutines " + goroutines
	if pid > 0 {
		rss, _ := memory([]int{pid})
		out += fmt.Sprintf(", RSS %.1f MiB", rss)
	}
	return out
}

// pprofLine returns the rest of the first line of url's answer that
// starts with prefix, or "?".
func pprofLine(url, prefix string) string {
	resp, err := http.Get(url)
	if err != nil {
		return "?"
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			return strings.TrimSpace(rest)
		}
	}
	return "?"
}

// runH2CDrop serves an app that speaks h2c just enough to be taken for an
// HTTP/2 server (SETTINGS first) and closes every connection when a
// request's HEADERS frame arrives: every request through a sidecar fails
// on a new upstream connection, as with an h2c app that gives up on every
// call.
func runH2CDrop(args []string) error {
	fs := flag.NewFlagSet("h2cdrop", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:18081", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serveConns(*listen, dropAtHeaders)
}

// settingsFrame is an empty SETTINGS frame: how an HTTP/2 server speaks first.
var settingsFrame = []byte{0, 0, 0, 0x4, 0, 0, 0, 0, 0}

func dropAtHeaders(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(settingsFrame); err != nil {
		return
	}
	if _, err := io.CopyN(io.Discard, c, int64(len(http2Preface))); err != nil {
		return
	}
	for {
		var hdr [9]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		if hdr[3] == 0x1 { // HEADERS
			// A FIN, not a reset, which could discard the SETTINGS before
			// the client reads them; then wait for the client to close.
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			_, _ = io.Copy(io.Discard, c)
			return
		}
		length := binary.BigEndian.Uint32(append([]byte{0}, hdr[:3]...))
		if _, err := io.CopyN(io.Discard, c, int64(length)); err != nil {
			return
		}
	}
}

const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
