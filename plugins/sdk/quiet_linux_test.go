package sdk

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestQuietConnMovesBytesLikeTheConn: a write far larger than the
// socket's buffer arrives whole (partial writes, waits for the reader);
// a read deadline and the peer's close end reads as on a net.Conn.
func TestQuietConnMovesBytesLikeTheConn(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "q.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	raw, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	a, b := quiet(raw), quiet(peer)
	if _, ok := a.(*quietConn); !ok {
		t.Fatalf("quiet returned %T for a Unix socket", a)
	}
	defer a.Close()

	want := make([]byte, 4<<20)
	_, _ = rand.Read(want)
	errc := make(chan error, 1)
	go func() {
		n, err := a.Write(want)
		if err == nil && n != len(want) {
			err = errors.New("short write")
		}
		errc <- err
	}()
	got := make([]byte, len(want))
	_ = b.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(b, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the bytes read are not the bytes written")
	}

	_ = b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := b.Read(got); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: want a deadline error, got %v", err)
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
