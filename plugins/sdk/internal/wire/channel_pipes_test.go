//go:build unix

package wire

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// TestMain lets TestChannelPipesReachThePluginProcess run this binary as
// its plugin process.
func TestMain(m *testing.M) {
	if os.Getenv("SDK_TEST_CHANNEL_CHILD") == "1" {
		os.Exit(runChannelChild())
	}
	os.Exit(m.Run())
}

// runChannelChild is the plugin process of
// TestChannelPipesReachThePluginProcess: it serves calls on the pipes
// ChannelEnv names, as sdk.Serve does, until the host closes them. Its
// answer tells what the process sees of the variable and the pipes; the
// path /exit makes it exit in the middle of the call.
func runChannelChild() int {
	srv := testServer(func(_ context.Context, r *pluginv1.HTTPRequest) (*pluginv1.RequestResult, error) {
		if r.GetPath() == "/exit" {
			os.Exit(3)
		}
		seen := fmt.Sprintf("env=%q cloexec=%v,%v", os.Getenv(ChannelEnv), isCloseOnExec(3), isCloseOnExec(4))
		return &pluginv1.RequestResult{Response: &pluginv1.DirectResponse{Status: 200, Body: []byte(seen)}}, nil
	})
	stop, err := srv.ServeInheritedChannel() // as sdk.Serve does
	if err != nil || stop == nil {
		fmt.Fprintln(os.Stderr, "no channel:", err)
		return 2
	}
	key, err := hex.DecodeString(os.Getenv("SDK_TEST_CHANNEL_KEY")) // what OpenChannel would bring
	if err != nil || !srv.channel.open(key) {
		fmt.Fprintln(os.Stderr, "no key:", err)
		return 2
	}
	<-srv.channel.done
	return 0
}

func isCloseOnExec(fd int) bool {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil && flags&unix.FD_CLOEXEC != 0
}

// TestChannelPipesReachThePluginProcess: a child process started with
// AddTo serves calls on the pipes (its own copies, close-on-exec, the
// variable gone from its environment), and when it exits in the middle
// of a call, the call fails at once rather than at its deadline: the
// host holds no copy of the plugin's ends after CloseChildEnds.
func TestChannelPipesReachThePluginProcess(t *testing.T) {
	pipes, err := NewPipes()
	if err != nil {
		t.Fatal(err)
	}
	defer pipes.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SDK_TEST_CHANNEL_CHILD=1", "SDK_TEST_CHANNEL_KEY="+hex.EncodeToString(testKey),
		Handshake.MagicCookieKey+"="+Handshake.MagicCookieValue) // as a host starts a plugin
	cmd.Stderr = os.Stderr
	pipes.AddTo(cmd)
	err = cmd.Start()
	pipes.CloseChildEnds()
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	cc := testChannelConn(t, pipes.takeHost())
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

// TestInheritedChannelRefusesWhatIsNotItsPipes: a value that names no
// descriptors, or descriptors that are not the pipes' right ends, gives
// a clear error and no channel. The pipes it names are closed, so that a
// host waiting on them learns there is no channel; anything else it names
// (not the host's) is left open.
func TestInheritedChannelRefusesWhatIsNotItsPipes(t *testing.T) {
	regular, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	for _, tc := range []struct {
		name, want string
		fds        func(t *testing.T) (calls, answers int)
		open       []bool // after the refusal: calls, answers
	}{
		{"not numbers", "is not a descriptor number", func(*testing.T) (int, int) { return -1, -1 }, nil},
		{"three numbers", "want two descriptor numbers", func(t *testing.T) (int, int) {
			_, w := pipeEnds(t)
			return -3, w
		}, []bool{false, true}}, // malformed: nothing named is touched
		{"standard descriptors", "is not a descriptor number above 2", func(*testing.T) (int, int) { return 0, 1 }, []bool{true, true}},
		{"a regular file", "not a pipe", func(t *testing.T) (int, int) {
			_, w := pipeEnds(t)
			return int(regular.Fd()), w
		}, []bool{true, false}},
		{"the ends swapped", "not the pipe's read end", func(t *testing.T) (int, int) {
			r, w := pipeEnds(t)
			return w, r
		}, []bool{false, false}},
		{"one descriptor twice", "the same descriptor twice", func(t *testing.T) (int, int) {
			r, _ := pipeEnds(t)
			return r, r
		}, []bool{true, true}}, // refused before anything is looked at
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, answers := tc.fds(t)
			v := fmt.Sprintf("%d,%d", calls, answers)
			switch calls {
			case -1:
				v = "x,y"
			case -3:
				v = fmt.Sprintf("%d,%d,%d", -calls, answers, answers) // three numbers
			}
			ch, err := openInheritedChannel(v, bodyEcho())
			if ch != nil || err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), ChannelEnv) {
				t.Fatalf("got %v, %v; want no channel and an error naming %s and saying %q", ch, err, ChannelEnv, tc.want)
			}
			for i, fd := range []int{calls, answers} {
				if tc.open != nil && isOpen(fd) != tc.open[i] {
					t.Errorf("descriptor %d: open %v after the refusal, want %v", fd, isOpen(fd), tc.open[i])
				}
			}
		})
	}
}

// TestTakeChannelEnv: in a process a host started as a plugin, the
// variable leaves the environment, and the pipes it names become
// close-on-exec (they arrive without the flag: ExtraFiles clears it),
// but nothing else it names; in any other process nothing is touched.
func TestTakeChannelEnv(t *testing.T) {
	r, _ := pipeEnds(t)
	regular, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	other := dupNoCloexec(t, int(regular.Fd()))
	for _, fd := range []int{r, other} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			t.Fatal(err)
		}
	}
	v := fmt.Sprintf("%d,%d", r, other)

	t.Setenv(ChannelEnv, v)
	if got, ok := takeChannelEnv(); ok || got != "" || isCloseOnExec(r) {
		t.Fatalf("without go-plugin's cookie: took %q, %v; want nothing taken", got, ok)
	}
	t.Setenv(Handshake.MagicCookieKey, Handshake.MagicCookieValue)
	got, ok := takeChannelEnv()
	if !ok || got != v {
		t.Fatalf("took %q, %v; want %q", got, ok, v)
	}
	if _, set := os.LookupEnv(ChannelEnv); set {
		t.Fatal("the variable is still in the environment")
	}
	if !isCloseOnExec(r) {
		t.Fatal("the pipe is not close-on-exec")
	}
	if isCloseOnExec(other) {
		t.Fatal("a descriptor that is not a pipe was made close-on-exec")
	}
}

func dupNoCloexec(t *testing.T, fd int) int {
	t.Helper()
	d, err := syscall.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(d) })
	return d
}

// pipeEnds is a new pipe's read and write descriptors, closed when the
// test ends if the code under test left them open.
func pipeEnds(t *testing.T) (r, w int) {
	var fds [2]int
	// Pipe2 is Linux's; ForkLock keeps a child started meanwhile from
	// inheriting the ends before they are close-on-exec, as os.Pipe does.
	syscall.ForkLock.RLock()
	err := syscall.Pipe(fds[:])
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	ids := [2]uint64{pipeID(fds[0]), pipeID(fds[1])}
	t.Cleanup(func() {
		for i, fd := range fds {
			if pipeID(fd) == ids[i] { // still this pipe, not a number reused since
				_ = syscall.Close(fd)
			}
		}
	})
	return fds[0], fds[1]
}

func isOpen(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil
}

// pipeID is the inode of the pipe at fd, 0 if fd is not open.
func pipeID(fd int) uint64 {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil {
		return 0
	}
	return st.Ino
}
