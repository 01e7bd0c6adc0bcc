package zookeepertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/zkserver"
)

const (
	// EnvClasspath overrides the server's Java class path (a ZooKeeper
	// unpacked elsewhere: "/opt/zookeeper/lib/*").
	EnvClasspath = zkserver.EnvClasspath
	// EnvRequire, when set, turns a missing java or ZooKeeper into a test
	// failure instead of a skip: CI installs both and must not skip.
	EnvRequire = "MESHBRIDGE_REQUIRE_ZOOKEEPER"
)

// TickTime is the server's tick. ZooKeeper measures sessions in ticks and
// checks for expired ones once a tick, so a short tick lets tests use
// session timeouts of a second or two and see expiries on time.
const TickTime = 200 * time.Millisecond

// The session timeouts the server grants: a client asking for less gets
// MinSessionTimeout, for more MaxSessionTimeout.
const (
	MinSessionTimeout = 2 * TickTime
	MaxSessionTimeout = 60 * time.Second
)

// startWithin bounds the wait for a server to answer after it is started:
// a JVM on a busy two-core machine may take several seconds.
const startWithin = 60 * time.Second

// Server is a ZooKeeper server run by a test.
type Server struct {
	// Addr is the client address, "127.0.0.1:<port>".
	Addr string

	dir, cfg, log string
	install       zkserver.Installation

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs a standalone ZooKeeper server on a free loopback port with
// its data in a temporary directory, and waits until it hands out
// sessions. The server is stopped when the test ends. Without java or
// ZooKeeper the test is skipped (see EnvRequire).
func Start(t testing.TB) *Server {
	t.Helper()
	install, err := zkserver.Find()
	if err != nil {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("zookeepertest: %v (%s is set)", err, EnvRequire)
		}
		t.Skipf("zookeepertest: %v; install it with `make zookeeper` (Debian: apt-get install zookeeper)", err)
	}
	dir := t.TempDir()
	s := &Server{
		Addr:    net.JoinHostPort(loopback.Host, strconv.Itoa(loopback.Port(t))),
		dir:     dir,
		cfg:     filepath.Join(dir, "zoo.cfg"),
		log:     filepath.Join(dir, "server.log"),
		install: install,
	}
	if err := s.writeConfig(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(syscall.SIGTERM) })
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// writeConfig writes the standalone configuration (zkserver.Config).
func (s *Server) writeConfig() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(port)
	return zkserver.Config{DataDir: filepath.Join(s.dir, "data"), Host: loopback.Host, Port: n,
		TickTime: TickTime, MinSessionTimeout: MinSessionTimeout, MaxSessionTimeout: MaxSessionTimeout}.Write(s.cfg)
}

func (s *Server) start() error {
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("zookeepertest: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(s.install.Java, s.install.Args(s.cfg)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("zookeepertest: start %s: %w", s.install.Java, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // the exit shows as a failed start or in Stop
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	deadline := time.Now().Add(startWithin)
	for {
		select {
		case <-exited:
			return fmt.Errorf("zookeepertest: the server exited at start: %s", s.logTail())
		default:
		}
		if err := zkserver.Probe(context.Background(), s.Addr); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.stop(syscall.SIGKILL)
			return fmt.Errorf("zookeepertest: no session from %s within %v (last: %v): %s", s.Addr, startWithin, err, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Server) logTail() string {
	data, err := os.ReadFile(s.log)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	if len(data) == 0 {
		return "(server log empty)"
	}
	return string(data)
}

// stop signals the server and waits for it to exit (SIGKILL after 10s).
func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig) // an exited server makes this fail; the wait below still ends
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill() // it ignored the signal: nothing else to do but kill it
		<-exited
	}
}

// Stop stops the server gracefully (SIGTERM); its data stays for Restart.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.stop(syscall.SIGTERM)
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.stop(syscall.SIGKILL)
}

// Restart stops the server if it runs and starts it again on the same
// address and data: sessions survive as ZooKeeper's own do across a
// restart, so clients that come back within their timeout keep them.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.stop(syscall.SIGTERM)
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// Connect returns a client with a session, closed when the test ends.
func (s *Server) Connect(t testing.TB, sessionTimeout time.Duration) *zk.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startWithin)
	defer cancel()
	conn, err := zkserver.Connect(ctx, s.Addr, sessionTimeout)
	if err != nil {
		t.Fatalf("zookeepertest: %v", err)
	}
	t.Cleanup(conn.Close)
	return conn
}
