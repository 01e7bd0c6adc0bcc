package host_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/pace"
	"github.com/meshbridge/meshbridge/internal/quietconn"
)

// pipeEchoEnv starts this test binary as a pipe echo (see TestMain).
const pipeEchoEnv = "MESHBRIDGE_PIPE_ECHO"

// pipes reads one pipe and writes another, as the plugin channel's ends do.
type pipes struct{ r, w *quietconn.File }

func (p pipes) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p pipes) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p pipes) Close() error                { return errors.Join(p.w.Close(), p.r.Close()) }

// inherited is descriptor fd, which this process inherited, non-blocking
// so that its reads and writes are raw and wait in the netpoller.
func inherited(fd int, name string) (*quietconn.File, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	return quietconn.WrapFile(os.NewFile(uintptr(fd), name)), nil
}

// runPipeEcho answers each 64-byte message on descriptor 3 with itself on
// descriptor 4.
func runPipeEcho() int {
	r, rerr := inherited(3, "calls")
	w, werr := inherited(4, "answers")
	if err := errors.Join(rerr, werr); err != nil {
		fmt.Fprintln(os.Stderr, "pipe echo:", err)
		return 1
	}
	c := pipes{r: r, w: w}
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

// BenchmarkPipeFloor is the floor under any out-of-process plugin call on
// this machine: a 64-byte round trip to another process over two pipes,
// as the plugin channel's, no protocol, no TLS, one goroutine on each
// side, reads and writes as raw calls (quietconn). "paced" sends 2,000 a
// second as BenchmarkChainLatency does, so each one starts from sleeping
// threads; "back-to-back" sends the next at once. Run it with
// -benchtime=1x.
func BenchmarkPipeFloor(b *testing.B) {
	c, stop, err := startPipeEcho()
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	buf := make([]byte, 64)
	roundTrips := func(n int, every time.Duration) []time.Duration {
		out := make([]time.Duration, 0, n)
		var tick <-chan time.Time
		if every > 0 {
			tk := pace.NewTicker(every) // time.Sleep would tick every millisecond
			defer tk.Stop()
			tick = tk.C
		}
		for range n {
			if tick != nil {
				<-tick
			}
			start := time.Now()
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
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

// startPipeEcho starts this test binary as a pipe echo and returns this
// end of its pipes, and how to stop it.
func startPipeEcho() (io.ReadWriter, func(), error) {
	callsR, callsW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	answersR, answersW, err := os.Pipe()
	if err != nil {
		_, _ = callsR.Close(), callsW.Close()
		return nil, nil, err
	}
	cmd := exec.Command(os.Args[0])
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, benchServerEnv+"=") { // the bench server starts one too
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, pipeEchoEnv+"=1")
	cmd.ExtraFiles = []*os.File{callsR, answersW}
	err = cmd.Start()
	_, _ = callsR.Close(), answersW.Close() // the echo's ends: its exit ends our reads
	c := pipes{r: quietconn.WrapFile(answersR), w: quietconn.WrapFile(callsW)}
	if err != nil {
		_ = c.Close()
		return nil, nil, err
	}
	// Closing our ends ends the echo.
	return c, func() { _ = c.Close(); _ = cmd.Wait() }, nil
}

// floorHandler makes one bare round trip to the pipe echo before next,
// where a plugin call would be: what any out-of-process call adds at
// least, on this machine, under the same load.
func floorHandler(c io.ReadWriter, next http.Handler) http.Handler {
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
