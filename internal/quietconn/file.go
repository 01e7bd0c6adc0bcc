package quietconn

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// File is a pipe (or another file Go's netpoller waits on) whose reads
// and writes are raw read and write system calls on Linux amd64 and
// arm64, for the same reason as Wrap's, when the file is in non-blocking
// mode; otherwise they are the file's own. It offers only what reading
// and writing need: not Fd, which would put the descriptor in blocking
// mode under the raw calls.
type File struct {
	f      *os.File
	rc     syscall.RawConn // nil: the file's own reads and writes
	closed atomic.Bool
}

// WrapFile wraps f, which the caller must not use afterwards. Its reads
// and writes are raw only when f is in non-blocking mode, as os.Pipe's
// ends are (os.NewFile takes a descriptor's mode as it finds it): a raw
// call that blocked would hold its thread where the runtime cannot take
// it back. Nor may another process that shares the descriptor switch it
// to blocking mode.
func WrapFile(f *os.File) *File { return &File{f: f, rc: rawFileConn(f)} }

// Close closes the file; reads and writes waiting on it end with
// os.ErrClosed.
func (f *File) Close() error {
	f.closed.Store(true)
	return f.f.Close()
}

// Name is the file's name.
func (f *File) Name() string { return f.f.Name() }

// SetReadDeadline and SetWriteDeadline bound the reads and writes that wait.
func (f *File) SetReadDeadline(t time.Time) error  { return f.f.SetReadDeadline(t) }
func (f *File) SetWriteDeadline(t time.Time) error { return f.f.SetWriteDeadline(t) }
