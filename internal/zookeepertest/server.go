package zookeepertest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/internal/loopback"
)

const (
	// debianJar is the server as Debian's zookeeper package installs it;
	// its manifest's Class-Path names every jar the server needs.
	debianJar = "/usr/share/java/zookeeper.jar"
	// EnvClasspath overrides the server's Java class path (a ZooKeeper
	// unpacked elsewhere: "/opt/zookeeper/lib/*").
	EnvClasspath = "MESHBRIDGE_ZOOKEEPER_CLASSPATH"
	// EnvRequire, when set, turns a missing java or ZooKeeper into a test
	// failure instead of a skip: CI installs both and must not skip.
	EnvRequire = "MESHBRIDGE_REQUIRE_ZOOKEEPER"
	mainClass  = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
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
	java, classpath, err := installation()
	if err != nil {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("zookeepertest: %v (%s is set)", err, EnvRequire)
		}
		t.Skipf("zookeepertest: %v; install it with `make zookeeper` (Debian: apt-get install zookeeper)", err)
	}
	dir := t.TempDir()
	s := &Server{
		Addr: net.JoinHostPort(loopback.Host, strconv.Itoa(loopback.Port(t))),
		dir:  dir,
		cfg:  filepath.Join(dir, "zoo.cfg"),
		log:  filepath.Join(dir, "server.log"),
	}
	if err := s.writeConfig(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(syscall.SIGTERM) })
	if err := s.start(java, classpath); err != nil {
		t.Fatal(err)
	}
	return s
}

// installation finds java and the server's class path.
func installation() (java, classpath string, err error) {
	java, err = exec.LookPath("java")
	if err != nil {
		return "", "", errors.New("java is not installed")
	}
	if cp := os.Getenv(EnvClasspath); cp != "" {
		return java, cp, nil
	}
	if _, err := os.Stat(debianJar); err != nil {
		return "", "", fmt.Errorf("ZooKeeper is not installed (%s missing, %s not set)", debianJar, EnvClasspath)
	}
	return java, debianJar, nil
}

// writeConfig writes a standalone configuration: loopback only, no admin
// HTTP server, no four-letter-word commands (nothing but the client port
// listens).
func (s *Server) writeConfig() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	data := strings.Join([]string{
		"tickTime=" + strconv.Itoa(int(TickTime/time.Millisecond)),
		"dataDir=" + filepath.Join(s.dir, "data"),
		"clientPort=" + port,
		"clientPortAddress=" + loopback.Host,
		"minSessionTimeout=" + strconv.Itoa(int(MinSessionTimeout/time.Millisecond)),
		"maxSessionTimeout=" + strconv.Itoa(int(MaxSessionTimeout/time.Millisecond)),
		"maxClientCnxns=0",
		"admin.enableServer=false",
		"4lw.commands.whitelist=",
		"",
	}, "\n")
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o755); err != nil {
		return fmt.Errorf("zookeepertest: %w", err)
	}
	if err := os.WriteFile(s.cfg, []byte(data), 0o644); err != nil {
		return fmt.Errorf("zookeepertest: write zoo.cfg: %w", err)
	}
	return nil
}

func (s *Server) start(java, classpath string) error {
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("zookeepertest: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	// A small heap and the client compiler: a test server holds little
	// and should start fast on a shared machine.
	cmd := exec.Command(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dzookeeper.admin.enableServer=false", "-Dzookeeper.jmx.log4j.disable=true",
		"-cp", classpath, mainClass, s.cfg)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("zookeepertest: start %s: %w", java, err)
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
		if err := probe(s.Addr); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.stop(syscall.SIGKILL)
			return fmt.Errorf("zookeepertest: no session from %s within %v (last: %v): %s", s.Addr, startWithin, err, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// probe asks the server for a session and closes it: a server that hands
// out sessions is ready, one that only accepts connections is not yet.
func probe(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second)) // a failed deadline only leaves the dial's bounds
	sess, err := handshake(conn, Session{}, 30*time.Second)
	if err != nil {
		return err
	}
	if sess.ID == 0 {
		return errors.New("no session granted")
	}
	return closeSession(conn)
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
	java, classpath, err := installation()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.start(java, classpath); err != nil {
		t.Fatal(err)
	}
}

// Connect returns a client with a session, closed when the test ends.
func (s *Server) Connect(t testing.TB, sessionTimeout time.Duration) *zk.Conn {
	t.Helper()
	conn, events, err := zk.Connect([]string{s.Addr}, sessionTimeout, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatalf("zookeepertest: connect %s: %v", s.Addr, err)
	}
	t.Cleanup(conn.Close)
	deadline := time.After(startWithin)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return conn
			}
		case <-deadline:
			t.Fatalf("zookeepertest: no session from %s within %v", s.Addr, startWithin)
		}
	}
}

// quiet drops go-zookeeper's connection chatter.
type quiet struct{}

func (quiet) Printf(string, ...any) {}
