//go:build linux && (amd64 || arm64)

package quietconn

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// Read reads with raw read calls, waiting in the netpoller while there is
// nothing to read. It returns io.EOF once every write end is closed.
func (f *File) Read(p []byte) (int, error) {
	if f.rc == nil {
		return f.f.Read(p)
	}
	n, err := readRaw(f.rc, p, "read", read)
	if err != nil && err != io.EOF {
		err = f.pathError("read", err)
	}
	return n, err
}

// Write writes all of p with raw write calls, waiting in the netpoller
// while the pipe is full. A pipe whose readers are gone fails with EPIPE
// (Go's runtime ignores the SIGPIPE that comes with it, as it does for
// any descriptor but standard output and error).
func (f *File) Write(p []byte) (int, error) {
	if f.rc == nil {
		return f.f.Write(p)
	}
	n, err := writeRaw(f.rc, p, "write", write)
	if err != nil {
		err = f.pathError("write", err)
	}
	return n, err
}

// rawFileConn is f's descriptor for raw calls, when f is in non-blocking
// mode.
func rawFileConn(f *os.File) syscall.RawConn {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	nonblocking := false
	if err := rc.Control(func(fd uintptr) {
		flags, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		nonblocking = e == 0 && flags&syscall.O_NONBLOCK != 0
	}); err != nil || !nonblocking {
		return nil
	}
	return rc
}

// pathError reports err as os.File's Read and Write do: a *PathError
// around the errno, and os.ErrClosed for the error a closed file's raw
// calls give.
func (f *File) pathError(op string, err error) error {
	var se *os.SyscallError
	switch {
	case errors.As(err, &se):
		err = se.Err
	case f.closed.Load() && !errors.Is(err, os.ErrDeadlineExceeded):
		err = os.ErrClosed
	}
	return &os.PathError{Op: op, Path: f.Name(), Err: err}
}
