package sdk

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk/quietconn"
)

// ChannelEnv is the environment variable through which a host tells the
// plugin process the descriptors of its ends of the calls' channel: the
// calls' pipe, which it reads, then the answers' pipe, which it writes
// ("3,4").
const ChannelEnv = "MESHBRIDGE_PLUGIN_CHANNEL"

// duplex is one end of the calls' channel: its two pipes as one (or, in
// tests, a net.Conn).
type duplex interface {
	io.ReadWriteCloser
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// pipeConn reads from one pipe and writes to the other.
type pipeConn struct{ r, w *quietconn.File }

func (p pipeConn) Read(b []byte) (int, error)         { return p.r.Read(b) }
func (p pipeConn) Write(b []byte) (int, error)        { return p.w.Write(b) }
func (p pipeConn) SetReadDeadline(t time.Time) error  { return p.r.SetReadDeadline(t) }
func (p pipeConn) SetWriteDeadline(t time.Time) error { return p.w.SetWriteDeadline(t) }

// Close closes the write end first: closing the read end ends receiving,
// which ends the handlers, and none of their answers may get out.
func (p pipeConn) Close() error { return errors.Join(p.w.Close(), p.r.Close()) }

// ChannelPipes is a plugin's calls' channel before the plugin runs: two
// pipes, one for calls and one for answers. The plugin process inherits
// its ends (AddTo), no other process has them, and the host's Client
// takes the host's ends (Client.UseChannel). Hosts make one per start of
// a plugin; plugin authors do not need it.
type ChannelPipes struct {
	mu sync.Mutex
	// Each side's ends, the one it reads then the one it writes: the
	// host reads answers and writes calls. Nil once handed on.
	host, plugin [2]*os.File
}

// NewChannelPipes makes the two pipes, close-on-exec and non-blocking
// (os.Pipe's ends are): only the process they are passed to gets them.
func NewChannelPipes() (*ChannelPipes, error) {
	if runtime.GOOS == "windows" {
		return nil, errors.New("plugin calls' channel: a process cannot inherit pipes here")
	}
	callsR, callsW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("plugin calls' channel: %w", err)
	}
	answersR, answersW, err := os.Pipe()
	if err != nil {
		_, _ = callsR.Close(), callsW.Close()
		return nil, fmt.Errorf("plugin calls' channel: %w", err)
	}
	return &ChannelPipes{host: [2]*os.File{answersR, callsW}, plugin: [2]*os.File{callsR, answersW}}, nil
}

// AddTo passes the plugin's ends to cmd, which must not have started:
// they become its next two descriptors, which ChannelEnv names in its
// environment.
func (p *ChannelPipes) AddTo(cmd *exec.Cmd) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.plugin[0] == nil {
		return
	}
	first := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, p.plugin[0], p.plugin[1])
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d,%d", ChannelEnv, first, first+1))
}

// Started closes this process's copies of the plugin's ends, once the
// plugin process has started (or failed to): then the host reads the end
// of the answers when the plugin exits, and the plugin the end of the
// calls when the host closes its end.
func (p *ChannelPipes) Started() {
	p.mu.Lock()
	defer p.mu.Unlock()
	closeFiles(&p.plugin)
}

// Close closes the ends not handed on.
func (p *ChannelPipes) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	closeFiles(&p.plugin)
	closeFiles(&p.host)
}

// takeHost hands the host's ends to a Client; nil if they were taken.
func (p *ChannelPipes) takeHost() duplex { return p.take(&p.host) }

// takePlugin hands the plugin's ends to a channel in this process (tests).
func (p *ChannelPipes) takePlugin() duplex { return p.take(&p.plugin) }

func (p *ChannelPipes) take(ends *[2]*os.File) duplex {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ends[0] == nil {
		return nil
	}
	c := pipeConn{r: quietconn.WrapFile(ends[0]), w: quietconn.WrapFile(ends[1])}
	ends[0], ends[1] = nil, nil
	return c
}

func closeFiles(fs *[2]*os.File) {
	for i, f := range fs {
		if f != nil {
			_ = f.Close()
			fs[i] = nil
		}
	}
}

// channelFromEnv serves srv's calls on the pipes ChannelEnv names, and
// takes the variable out of the environment (the plugin's own children
// get neither it nor the pipes). It returns nil, nil when the host passed
// no pipes.
func channelFromEnv(srv *server, logger *slog.Logger) (*channel, error) {
	v, ok := os.LookupEnv(ChannelEnv)
	if !ok {
		return nil, nil
	}
	_ = os.Unsetenv(ChannelEnv)
	calls, answers, _ := strings.Cut(v, ",")
	r, rfd, rerr := inheritedPipe(calls, true)
	w, wfd, werr := inheritedPipe(answers, false)
	if err := errors.Join(rerr, werr); err != nil {
		// Closed, so that the host reads the end of the answers at once.
		for i, f := range []*os.File{r, w} {
			if fd := []int{rfd, wfd}[i]; f != nil {
				_ = f.Close()
			} else if fd > 2 {
				closeDescriptor(fd)
			}
		}
		return nil, fmt.Errorf("%s=%q: %w", ChannelEnv, v, err)
	}
	return newChannel(srv, logger, pipeConn{r: quietconn.WrapFile(r), w: quietconn.WrapFile(w)}), nil
}

// inheritedPipe opens descriptor s, which must be a pipe's read end (or
// write end), close-on-exec and non-blocking. It returns the descriptor's
// number when s is one above 2, whether it could be opened or not.
func inheritedPipe(s string, read bool) (*os.File, int, error) {
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 3 {
		return nil, -1, fmt.Errorf("%q is not a descriptor number above 2", s)
	}
	if err := checkPipeEnd(fd, read); err != nil {
		return nil, fd, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	return os.NewFile(uintptr(fd), "plugin-channel-"+s), fd, nil
}
