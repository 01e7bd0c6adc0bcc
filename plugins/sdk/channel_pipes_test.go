//go:build unix

package sdk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// TestChannelPipesReachThePluginProcess: a child process started with
// AddTo serves calls on the pipes (its own copies, close-on-exec, the
// variable gone from its environment), and when it exits in the middle
// of a call, the call fails at once rather than at its deadline: the
// host holds no copy of the plugin's ends after Started.
func TestChannelPipesReachThePluginProcess(t *testing.T) {
	pipes, err := NewChannelPipes()
	if err != nil {
		t.Fatal(err)
	}
	defer pipes.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SDK_TEST_CHANNEL_CHILD=1")
	cmd.Stderr = os.Stderr
	pipes.AddTo(cmd)
	err = cmd.Start()
	pipes.Started()
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	cc := newChannelConn(pipes.takeHost(), 0)
	defer cc.close()

	resp, err := cc.call(ctx, 1, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Path: "/ok"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(resp.GetRequest().GetResponse().GetBody()), `env="" cloexec=true,true`; got != want {
		t.Fatalf("the plugin process saw %s; want %s", got, want)
	}

	start := time.Now()
	_, err = cc.call(ctx, 2, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Path: "/exit"}}})
	if status.Code(err) != codes.Unavailable || time.Since(start) > 10*time.Second {
		t.Fatalf("the call the plugin died in: %v after %s; want Unavailable at once", err, time.Since(start))
	}
	var exit *exec.ExitError
	if err := <-exited; !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("the plugin process ended with %v; want exit status 3", err)
	}
}

// TestChannelFromEnvRefusesWhatIsNotItsPipes: a variable that names no
// descriptors, or descriptors that are not the pipes' right ends, gives
// a clear error and no channel; the descriptors it named are closed, so
// a host waiting on them learns there is no channel; the variable is gone
// either way.
func TestChannelFromEnvRefusesWhatIsNotItsPipes(t *testing.T) {
	regular, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	for _, tc := range []struct {
		name, want string
		fds        func(t *testing.T) (calls, answers int)
	}{
		{"not numbers", "is not a descriptor number", func(*testing.T) (int, int) { return -1, -1 }},
		{"standard descriptors", "is not a descriptor number above 2", func(*testing.T) (int, int) { return 0, 1 }},
		{"a regular file", "not a pipe", func(t *testing.T) (int, int) {
			_, w := pipeEnds(t)
			return dup(t, int(regular.Fd())), w
		}},
		{"the ends swapped", "not the pipe's read end", func(t *testing.T) (int, int) {
			r, w := pipeEnds(t)
			return w, r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, answers := tc.fds(t)
			v := fmt.Sprintf("%d,%d", calls, answers)
			if calls < 0 {
				v = "x,y"
			}
			t.Setenv(ChannelEnv, v)
			ch, err := channelFromEnv(newServer(bodyEcho(), Logger()), Logger())
			if ch != nil || err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), ChannelEnv) {
				t.Fatalf("got %v, %v; want no channel and an error naming %s and saying %q", ch, err, ChannelEnv, tc.want)
			}
			if _, ok := os.LookupEnv(ChannelEnv); ok {
				t.Fatal("the variable is still in the environment")
			}
			for _, fd := range []int{calls, answers} {
				if fd > 2 && isOpen(fd) {
					t.Errorf("descriptor %d is still open", fd)
				}
			}
		})
	}
}

// pipeEnds is a new pipe's read and write descriptors, closed with the
// test unless the code under test closed them.
func pipeEnds(t *testing.T) (r, w int) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	return fds[0], fds[1]
}

func dup(t *testing.T, fd int) int {
	d, err := syscall.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func isOpen(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil
}
