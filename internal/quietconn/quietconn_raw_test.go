//go:build linux && (amd64 || arm64)

package quietconn

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// pair is two connected sockets of network, wrapped.
func pair(t *testing.T, network string) (net.Conn, net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "q.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	raw, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	a, b := Wrap(raw), Wrap(peer)
	switch a.(type) {
	case *conn, tcpConn:
	default:
		t.Fatalf("Wrap returned %T for a %s socket", a, network)
	}
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a, b
}

// TestWrapMovesBytesLikeTheConn: a write far larger than the socket's
// buffer arrives whole (partial writes, waits for the reader); a read
// deadline and the peer's close end reads as on a net.Conn.
func TestWrapMovesBytesLikeTheConn(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) { movesBytes(t, network) })
	}
}

func movesBytes(t *testing.T, network string) {
	a, b := pair(t, network)
	got := moveBig(t, a, b)

	_ = b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := b.Read(got)
	var oe *net.OpError
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("read past the deadline: want a read *net.OpError for the deadline, got %#v", err)
	}
	_ = b.SetReadDeadline(time.Now().Add(10 * time.Second))
	_ = a.Close()
	if n, err := b.Read(got); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed: %d, %v; want io.EOF", n, err)
	}
	_ = b.Close()
	if _, err := b.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write on a closed conn: want net.ErrClosed, got %v", err)
	}
}

// TestWrapKeepsHalfCloseAndSplice: CloseWrite reaches the peer as EOF
// while the other direction still works, and io.Copy between two wrapped
// TCP connections moves the bytes (through the connections' own ReadFrom).
func TestWrapKeepsHalfCloseAndSplice(t *testing.T) {
	a, b := pair(t, "tcp")
	c, d := pair(t, "tcp")
	go func() {
		_, _ = a.Write([]byte("hello"))
		_ = a.(interface{ CloseWrite() error }).CloseWrite()
	}()
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, b) // b's bytes to c, until a's half-close
		_ = c.(interface{ CloseWrite() error }).CloseWrite()
		copied <- err
	}()
	_ = d.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(d)
	if err != nil || string(got) != "hello" {
		t.Fatalf("through the copy: %q, %v", got, err)
	}
	if err := <-copied; err != nil {
		t.Fatal(err)
	}
	// a only half-closed: it still reads what b sends.
	if _, err := b.Write([]byte("back")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	_ = a.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "back" {
		t.Fatalf("after the half-close: %q, %v", buf, err)
	}
	if _, err := a.(interface {
		SyscallConn() (syscall.RawConn, error)
	}).SyscallConn(); err != nil {
		t.Fatal(err)
	}
}

// TestWrapNeverBlocksInTheKernel: on a socket someone switched to blocking
// mode, a read still waits in the netpoller, so its deadline fires (a
// blocking raw call would hold its thread and stop the next collection).
func TestWrapNeverBlocksInTheKernel(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			_, b := pair(t, network)
			rc, err := b.(interface {
				SyscallConn() (syscall.RawConn, error)
			}).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			if err := rc.Control(func(fd uintptr) { _ = syscall.SetNonblock(int(fd), false) }); err != nil {
				t.Fatal(err)
			}
			_ = b.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			done := make(chan error, 1)
			go func() { _, err := b.Read(make([]byte, 8)); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("want the deadline, got %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the read blocked in the kernel past its deadline")
			}
		})
	}
}

// TestWrapCopiesUnixConnections: io.Copy from and to a wrapped Unix
// connection works (it has no splice methods to forward to).
func TestWrapCopiesUnixConnections(t *testing.T) {
	a, b := pair(t, "unix")
	go func() {
		_, _ = io.Copy(a, bytes.NewReader([]byte("through")))
		_ = a.(interface{ CloseWrite() error }).CloseWrite()
	}()
	var out bytes.Buffer
	_ = b.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(&out, b); err != nil || out.String() != "through" {
		t.Fatalf("copied %q, %v", out.String(), err)
	}
}

// moveBig writes 4 MiB, far more than a socket's or a pipe's buffer, to w
// and checks that r reads the same bytes (within 10 s); it returns the
// buffer they were read into.
func moveBig(t *testing.T, w io.Writer, r interface {
	io.Reader
	SetReadDeadline(time.Time) error
}) []byte {
	t.Helper()
	want := make([]byte, 4<<20)
	_, _ = rand.Read(want)
	errc := make(chan error, 1)
	go func() {
		n, err := w.Write(want)
		if err == nil && n != len(want) {
			err = errors.New("short write")
		}
		errc <- err
	}()
	got := make([]byte, len(want))
	_ = r.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the bytes read are not the bytes written")
	}
	return got
}
