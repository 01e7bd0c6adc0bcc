package host_test

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestPluginSocketMustBeThePlugins: a start whose handshake names a socket
// another process listens on (here, the test's own, as a process of the
// same user that wrote into the plugin's stdout first would) fails, and
// not a byte of TLS, let alone the channel's key, goes to that socket.
func TestPluginSocketMustBeThePlugins(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the peer is checked on Linux only")
	}
	dir, err := os.MkdirTemp("", "imp") // short: a socket path has a length limit
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "impostor.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan int, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _ := c.Read(make([]byte, 512))
			received <- n
			c.Close()
		}
	}()
	cfg := pluginConfig(t, "impostor", "testplugin", "-announce-socket", sock)
	err = startError(t, cfg, "the host started a plugin whose socket another process serves")
	if !strings.Contains(err.Error(), "not to the plugin") {
		t.Fatalf("want the start refused for the socket's owner, got: %v", err)
	}
	settle := time.After(time.Second)
	for {
		select {
		case n := <-received:
			if n > 0 {
				t.Fatalf("the host sent %d bytes to the other process's socket", n)
			}
		case <-settle:
			return
		}
	}
}
