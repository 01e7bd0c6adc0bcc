package httpx

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A BufferedConn replays what its reader had buffered, then reads the
// connection, and passes a half-close on: the peer reads EOF and can
// still answer.
func TestBufferedConnReplaysAndHalfCloses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	_ = peer.SetDeadline(time.Now().Add(5 * time.Second))
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(peer, "head\nrest"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	if line, err := br.ReadString('\n'); err != nil || line != "head\n" {
		t.Fatalf("head: %q %v", line, err)
	}
	bc := &BufferedConn{Conn: nc, Br: br}
	got := make([]byte, 4)
	if _, err := io.ReadFull(bc, got); err != nil || string(got) != "rest" {
		t.Fatalf("replayed bytes: %q %v", got, err)
	}
	if err := bc.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	if b, err := io.ReadAll(peer); err != nil || len(b) != 0 {
		t.Fatalf("peer after the half-close: %q %v; want EOF", b, err)
	}
	if _, err := io.WriteString(peer, "answer"); err != nil {
		t.Fatalf("the peer could not answer after the half-close: %v", err)
	}
	var sb strings.Builder
	if _, err := io.Copy(&sb, io.LimitReader(bc, 6)); err != nil || sb.String() != "answer" {
		t.Fatalf("answer after the half-close: %q %v", sb.String(), err)
	}
}
