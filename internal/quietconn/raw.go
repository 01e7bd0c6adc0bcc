//go:build linux && (amd64 || arm64)

package quietconn

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// sysIO is one raw read-like or write-like system call on fd.
type sysIO func(fd uintptr, p []byte) (uintptr, syscall.Errno)

// readRaw reads into p with one call that succeeds, waiting in the
// netpoller while call says EAGAIN. The netpoller's errors (deadline,
// closed) come back as they are, the kernel's as an *os.SyscallError
// named name, and no bytes as io.EOF.
func readRaw(rc syscall.RawConn, p []byte, name string, call sysIO) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := rc.Read(func(fd uintptr) bool {
		for {
			r, e := call(fd, p)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait until readable
			}
			n, errno = int(r), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, os.NewSyscallError(name, errno)
	case n == 0:
		return 0, io.EOF
	}
	raceWrote(p[:n])
	return n, nil
}

// writeRaw writes all of p with as many calls as it takes, waiting in the
// netpoller while call says EAGAIN; errors as readRaw's.
func writeRaw(rc syscall.RawConn, p []byte, name string, call sysIO) (int, error) {
	raceWillRead(p)
	written := 0
	var errno syscall.Errno
	err := rc.Write(func(fd uintptr) bool {
		for written < len(p) {
			r, e := call(fd, p[written:])
			switch e {
			case 0:
				written += int(r)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // wait until writable
			default:
				errno = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return written, err
	case errno != 0:
		return written, os.NewSyscallError(name, errno)
	}
	return written, nil
}

// The calls: recvfrom and sendto carry MSG_DONTWAIT, so they never block
// whatever the socket's mode; read and write are used on non-blocking
// files only (WrapFile).
func recvfrom(fd uintptr, p []byte) (uintptr, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), syscall.MSG_DONTWAIT, 0, 0)
	return r, e
}

func sendto(fd uintptr, p []byte) (uintptr, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL, 0, 0)
	return r, e
}

func read(fd uintptr, p []byte) (uintptr, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return r, e
}

func write(fd uintptr, p []byte) (uintptr, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return r, e
}
