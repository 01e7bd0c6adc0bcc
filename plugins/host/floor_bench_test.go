package host_test

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk/quietconn"
)

// socketEchoEnv starts this test binary as a Unix socket echo (see TestMain).
const socketEchoEnv = "MESHBRIDGE_SOCKET_ECHO"

// runSocketEcho answers each 64-byte message on the socket with itself.
func runSocketEcho() int {
	raw, err := net.Dial("unix", os.Getenv(socketEchoEnv))
	if err != nil {
		return 1
	}
	c := quietconn.Wrap(raw) // as the plugin channel's reads and writes
	buf := make([]byte, 64)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return 0
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return 0
		}
	}
}

// BenchmarkSocketFloor is the floor under any out-of-process plugin call on
// this machine: a 64-byte round trip to another process over a Unix
// socket, no protocol, no TLS, one goroutine on each side, reads and
// writes as raw calls as on the plugin channel (quietconn). "paced" sends
// 2,000 a second as BenchmarkChainLatency does, so each one starts from
// sleeping threads; "back-to-back" sends the next at once. Run it with
// -benchtime=1x.
func BenchmarkSocketFloor(b *testing.B) {
	c, stop, err := startSocketEcho(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	buf := make([]byte, 64)
	roundTrips := func(n int, every time.Duration) []time.Duration {
		out := make([]time.Duration, 0, n)
		next := time.Now()
		for range n {
			if every > 0 {
				next = next.Add(every)
				time.Sleep(time.Until(next))
			}
			start := time.Now()
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
			if _, err := c.Read(buf); err != nil {
				b.Fatal(err)
			}
			out = append(out, time.Since(start))
		}
		return out
	}
	for b.Loop() {
		paced := roundTrips(10000, time.Second/2000)
		tight := roundTrips(10000, 0)
		b.ReportMetric(us(percentile(paced, 50)), "paced-p50-µs")
		b.ReportMetric(us(percentile(paced, 99)), "paced-p99-µs")
		b.ReportMetric(us(percentile(tight, 50)), "back-to-back-p50-µs")
		b.ReportMetric(us(percentile(tight, 99)), "back-to-back-p99-µs")
	}
}

// startSocketEcho starts this test binary as a socket echo and returns the
// connection to it, and how to stop it.
func startSocketEcho(dir string) (net.Conn, func(), error) {
	sock := filepath.Join(dir, "echo.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	cmd := exec.Command(os.Args[0])
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, benchServerEnv+"=") { // the bench server starts one too
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, socketEchoEnv+"="+sock)
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	if err := ln.(*net.UnixListener).SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return nil, nil, err
	}
	c, err := ln.Accept()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, nil, err
	}
	// Closing the connection ends the echo.
	q := quietconn.Wrap(c) // as the plugin channel's reads and writes
	return q, func() { _ = q.Close(); _ = cmd.Wait() }, nil
}

// floorHandler makes one bare round trip to the socket echo before next,
// where a plugin call would be: what any out-of-process call adds at
// least, on this machine, under the same load.
func floorHandler(c net.Conn, next http.Handler) http.Handler {
	var mu sync.Mutex
	buf := make([]byte, 64)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		_, err := c.Write(buf)
		if err == nil {
			_, err = io.ReadFull(c, buf)
		}
		mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		next.ServeHTTP(w, r)
	})
}
