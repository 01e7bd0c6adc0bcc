//go:build unix

package sdk

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// checkPipeEnd checks that fd is a pipe's read (or write) end, and makes
// it close-on-exec and non-blocking, as os.NewFile wants it to wait in the
// netpoller.
func checkPipeEnd(fd int, read bool) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return errors.New("not a pipe")
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	want, end := syscall.O_RDONLY, "read"
	if !read {
		want, end = syscall.O_WRONLY, "write"
	}
	if flags&syscall.O_ACCMODE != want {
		return errors.New("not the pipe's " + end + " end")
	}
	syscall.CloseOnExec(fd)
	return syscall.SetNonblock(fd, true)
}

// closeDescriptor closes a descriptor no *os.File holds.
func closeDescriptor(fd int) { _ = syscall.Close(fd) }
