package wire

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/internal/quietconn"
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

// newPipeConn reads from r and writes to w, with raw calls (quietconn).
func newPipeConn(r, w *os.File) pipeConn {
	return pipeConn{r: quietconn.WrapFile(r), w: quietconn.WrapFile(w)}
}

func (p pipeConn) Read(b []byte) (int, error)         { return p.r.Read(b) }
func (p pipeConn) Write(b []byte) (int, error)        { return p.w.Write(b) }
func (p pipeConn) SetReadDeadline(t time.Time) error  { return p.r.SetReadDeadline(t) }
func (p pipeConn) SetWriteDeadline(t time.Time) error { return p.w.SetWriteDeadline(t) }

// Close closes the write end first. On the plugin's side, closing the read
// end ends receiving, which ends the handlers, and none of their answers
// may get out; on the host's, the plugin then reads the end of the calls
// before its answers' pipe loses its reader.
func (p pipeConn) Close() error { return errors.Join(p.w.Close(), p.r.Close()) }

// Pipes is a plugin's calls' channel before the plugin runs: two
// pipes, one for calls and one for answers. The plugin process inherits
// its ends (AddTo) and the host's Conn takes the host's ends
// (Conn.UseChannel); no other process inherits them, and the messages
// are sealed against those that open them through /proc (frameSeal).
// Hosts make one per start of a plugin; plugin authors do not need it.
type Pipes struct {
	mu sync.Mutex
	// Each side's ends, the one it reads then the one it writes: the
	// host reads answers and writes calls. Nil once handed on.
	host, plugin [2]*os.File
	added        bool // AddTo was called
}

// NewPipes makes the two pipes, close-on-exec and non-blocking
// (os.Pipe's ends are): only the process they are passed to gets them.
func NewPipes() (*Pipes, error) {
	if !inheritsPipes {
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
	return &Pipes{host: [2]*os.File{answersR, callsW}, plugin: [2]*os.File{callsR, answersW}}, nil
}

// AddTo passes the plugin's ends to cmd, which must not have started:
// they become its next two descriptors, which ChannelEnv names in its
// environment (cmd's, or this process's when cmd has none). Only the
// first call does anything.
func (p *Pipes) AddTo(cmd *exec.Cmd) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.plugin[0] == nil || p.added {
		return
	}
	p.added = true
	if cmd.Env == nil {
		cmd.Env = cmd.Environ()
	}
	first := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, p.plugin[0], p.plugin[1])
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d,%d", ChannelEnv, first, first+1))
}

// CloseChildEnds closes this process's copies of the plugin's ends, once
// the plugin process has started (or failed to): then the host reads the
// end of the answers when the plugin exits, and the plugin the end of the
// calls when the host closes its end.
func (p *Pipes) CloseChildEnds() {
	p.mu.Lock()
	defer p.mu.Unlock()
	closeFiles(&p.plugin)
}

// Close closes the ends not handed on.
func (p *Pipes) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	closeFiles(&p.plugin)
	closeFiles(&p.host)
}

// takeHost hands the host's ends to a Conn; nil if they were taken.
func (p *Pipes) takeHost() duplex { return p.take(&p.host) }

// takePlugin hands the plugin's ends to a channel in this process (Loopback).
func (p *Pipes) takePlugin() duplex { return p.take(&p.plugin) }

func (p *Pipes) take(ends *[2]*os.File) duplex {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ends[0] == nil {
		return nil
	}
	c := newPipeConn(ends[0], ends[1])
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
