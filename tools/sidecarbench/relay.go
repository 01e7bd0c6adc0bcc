package main

import (
	"flag"
	"io"
	"net"
)

// runRelay is a bare TCP relay: each accepted connection gets one to the
// upstream and two goroutines copying bytes, through user space as any
// HTTP proxy must (no splice). Two of them in a row are the least a Go
// proxy pair on this machine's network stack and scheduler can cost: the
// benchmark's floor for the sidecar pair, next to nginx.
func runRelay(args []string) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:18301", "listen address")
	upstream := fs.String("upstream", "127.0.0.1:18080", "upstream address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serveConns(*listen, func(c net.Conn) { relay(c, *upstream) })
}

func relay(c net.Conn, upstream string) {
	defer c.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{})
	go func() {
		copyPlain(u, c)
		_ = u.(*net.TCPConn).CloseWrite() // the peer reads EOF; nothing to do if it fails
		close(done)
	}()
	copyPlain(c, u)
	_ = c.(*net.TCPConn).CloseWrite() // likewise
	<-done
}

// copyPlain copies with read and write calls only: the plain wrappers hide
// ReadFrom and WriteTo, which would splice in the kernel.
func copyPlain(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	_, _ = io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf)
}
