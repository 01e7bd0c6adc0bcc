package zkserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

const (
	// DebianJar is the server as Debian's zookeeper package installs it;
	// its manifest's Class-Path names every jar the server needs.
	DebianJar = "/usr/share/java/zookeeper.jar"
	// EnvClasspath overrides the server's Java class path (a ZooKeeper
	// unpacked elsewhere: "/opt/zookeeper/lib/*").
	EnvClasspath = "MESHBRIDGE_ZOOKEEPER_CLASSPATH"
	mainClass    = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
)

// Installation is a java and the server's class path.
type Installation struct {
	Java, Classpath string
}

// Find locates java and the server; the error says which is missing.
func Find() (Installation, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return Installation{}, errors.New("java is not installed")
	}
	if cp := os.Getenv(EnvClasspath); cp != "" {
		return Installation{Java: java, Classpath: cp}, nil
	}
	if _, err := os.Stat(DebianJar); err != nil {
		return Installation{}, fmt.Errorf("ZooKeeper is not installed (%s missing, %s not set)", DebianJar, EnvClasspath)
	}
	return Installation{Java: java, Classpath: DebianJar}, nil
}

// Args are java's arguments to run the server with the configuration
// file cfg. A small heap and the client compiler: a test or scenario
// server holds little and should start fast on a shared machine.
func (in Installation) Args(cfg string) []string {
	return []string{"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dzookeeper.admin.enableServer=false", "-Dzookeeper.jmx.log4j.disable=true",
		"-cp", in.Classpath, mainClass, cfg}
}

// Config is a standalone server's configuration.
type Config struct {
	// DataDir holds the snapshots and the transaction log.
	DataDir string
	// Host and Port are the client listener.
	Host string
	Port int
	// TickTime is the server's tick: ZooKeeper measures sessions in ticks
	// and checks for expired ones once a tick.
	TickTime time.Duration
	// MinSessionTimeout and MaxSessionTimeout bound the session timeouts
	// the server grants.
	MinSessionTimeout, MaxSessionTimeout time.Duration
}

// Write writes zoo.cfg at path and creates the data directory: loopback
// or the given host only, no admin HTTP server, no four-letter-word
// commands (nothing but the client port listens).
func (c Config) Write(path string) error {
	ms := func(d time.Duration) string { return strconv.Itoa(int(d / time.Millisecond)) }
	data := strings.Join([]string{
		"tickTime=" + ms(c.TickTime),
		"dataDir=" + c.DataDir,
		"clientPort=" + strconv.Itoa(c.Port),
		"clientPortAddress=" + c.Host,
		"minSessionTimeout=" + ms(c.MinSessionTimeout),
		"maxSessionTimeout=" + ms(c.MaxSessionTimeout),
		"maxClientCnxns=0",
		"admin.enableServer=false",
		"4lw.commands.whitelist=",
		"",
	}, "\n")
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return fmt.Errorf("zkserver: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("zkserver: %w", err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		return fmt.Errorf("zkserver: write %s: %w", path, err)
	}
	return nil
}

// probeWithin bounds one readiness check.
const probeWithin = 2 * time.Second

// Probe asks the server at addr for a session and closes it: a server
// that hands out sessions is ready, one that only accepts connections is
// not yet.
func Probe(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, probeWithin)
	defer cancel()
	conn, err := Connect(ctx, addr, 4*time.Second)
	if err != nil {
		return err
	}
	conn.Close()
	return nil
}

// Connect opens a session with the server at addr, asking for
// sessionTimeout, and waits for it until ctx ends; the caller closes the
// connection. go-zookeeper's connection chatter is dropped.
func Connect(ctx context.Context, addr string, sessionTimeout time.Duration) (*zk.Conn, error) {
	conn, events, err := zk.Connect([]string{addr}, sessionTimeout, zk.WithLogger(Quiet{}))
	if err != nil {
		return nil, fmt.Errorf("zkserver: %w", err)
	}
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return conn, nil
			}
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("zkserver: no session from %s: %w", addr, ctx.Err())
		}
	}
}

// Quiet drops go-zookeeper's connection chatter.
type Quiet struct{}

// Printf implements zk.Logger.
func (Quiet) Printf(string, ...any) {}
