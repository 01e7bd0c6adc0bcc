package host_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// socketEchoEnv starts this test binary as a Unix socket echo (see TestMain).
const socketEchoEnv = "MESHBRIDGE_SOCKET_ECHO"

// runSocketEcho answers each 64-byte message on the socket with itself.
func runSocketEcho() int {
	c, err := net.Dial("unix", os.Getenv(socketEchoEnv))
	if err != nil {
		return 1
	}
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
// socket, no protocol, no TLS, one goroutine on each side. "paced" sends
// 2,000 a second as BenchmarkChainLatency does, so each one starts from
// sleeping threads; "back-to-back" sends the next at once. Run it with
// -benchtime=1x.
func BenchmarkSocketFloor(b *testing.B) {
	sock := filepath.Join(b.TempDir(), "echo.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), socketEchoEnv+"="+sock)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	if err := ln.(*net.UnixListener).SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		b.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
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
