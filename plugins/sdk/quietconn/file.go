package quietconn

import (
	"os"
	"sync/atomic"
	"syscall"
)

// File is a pipe (or another file Go's netpoller waits on) whose reads
// and writes are raw read and write system calls on Linux amd64 and
// arm64, for the same reason as Wrap's, when the file is in non-blocking
// mode; otherwise they are the file's own. Deadlines, Close and the rest
// are the file's.
type File struct {
	*os.File
	rc     syscall.RawConn // nil: the file's own reads and writes
	closed atomic.Bool
}

// WrapFile wraps f. Its reads and writes are raw only when f is in
// non-blocking mode, as os.Pipe's ends are (os.NewFile takes a
// descriptor's mode as it finds it): a raw call that blocked would hold
// its thread where the runtime cannot take it back.
func WrapFile(f *os.File) *File { return &File{File: f, rc: rawFileConn(f)} }

// Close closes the file; reads and writes waiting on it end with
// os.ErrClosed.
func (f *File) Close() error {
	f.closed.Store(true)
	return f.File.Close()
}
