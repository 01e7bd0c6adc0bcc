//go:build unix

package wire

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// inheritsPipes: a started process can inherit pipes here.
const inheritsPipes = true

// isPipe reports whether fd is an open pipe end.
func isPipe(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
}

// checkPipeEnd checks that fd is a pipe's read (or write) end, and makes
// it non-blocking, as os.NewFile wants it to wait in the netpoller.
func checkPipeEnd(fd int, read bool) error {
	if !isPipe(fd) {
		return fmt.Errorf("descriptor %d: not a pipe", fd)
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("descriptor %d: %w", fd, err)
	}
	want, end := syscall.O_RDONLY, "read"
	if !read {
		want, end = syscall.O_WRONLY, "write"
	}
	if flags&syscall.O_ACCMODE != want {
		return fmt.Errorf("descriptor %d: not the pipe's %s end", fd, end)
	}
	return syscall.SetNonblock(fd, true)
}

func closeOnExec(fd int) { syscall.CloseOnExec(fd) }

// closeDescriptor closes a descriptor no *os.File holds.
func closeDescriptor(fd int) { _ = syscall.Close(fd) }
