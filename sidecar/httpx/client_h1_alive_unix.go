//go:build unix

package httpx

import "syscall"

// probe peeks at an idle connection without blocking. It is built once
// per connection so a check allocates nothing.
type probe struct {
	rc    syscall.RawConn
	check func(fd uintptr) bool
	ok    bool
	buf   [1]byte
}

// alive checks, without blocking, that the peer has not closed an idle
// connection (and sent nothing unasked).
func (c *h1conn) alive() bool {
	p := &c.probe
	if p.rc == nil {
		sc, ok := c.nc.(syscall.Conn)
		if !ok {
			return true
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return false
		}
		p.rc, p.check = rc, p.peek
	}
	p.ok = false
	return p.rc.Read(p.check) == nil && p.ok
}

func (p *probe) peek(fd uintptr) bool {
	err := peekSyscall(fd, p.buf[:])
	p.ok = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
	return true // never wait
}
