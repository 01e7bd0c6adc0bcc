package zookeeper

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// curatorJar is Curator's service discovery as Debian's
// libcurator-discovery-java installs it (`make zookeeper` does); its
// manifest names the jars it needs.
const curatorJar = "/usr/share/java/curator-x-discovery.jar"

// springDiscovery is the command that runs testdata/curator's
// SpringDiscovery.java, a Spring Cloud Zookeeper app's discovery through
// the real Curator, against srv.
func springDiscovery(t *testing.T, ctx context.Context, srv *zookeepertest.Server, args ...string) *exec.Cmd {
	t.Helper()
	// java runs the app from its source, which takes the JDK's compiler:
	// javac on the PATH says it is there.
	java, err := exec.LookPath("java")
	_, javacErr := exec.LookPath("javac")
	_, jarErr := os.Stat(curatorJar)
	if err != nil || javacErr != nil || jarErr != nil {
		if os.Getenv(zookeepertest.EnvRequire) != "" {
			t.Fatalf("a JDK or %s missing (%s is set)", curatorJar, zookeepertest.EnvRequire)
		}
		t.Skipf("a JDK or Curator missing (%s); `make zookeeper` installs them", curatorJar)
	}
	src, err := filepath.Abs(filepath.Join("testdata", "curator", "SpringDiscovery.java"))
	if err != nil {
		t.Fatal(err)
	}
	full := append([]string{"-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", curatorJar, src, srv.Addr, NewConfig().Root}, args...)
	return exec.CommandContext(ctx, java, full...)
}

// curatorInstance is what SpringDiscovery prints for each instance
// Curator read.
type curatorInstance struct {
	ID, Name, Address string
	Port              *int
	SSLPort           *int `json:"sslPort"`
	Enabled           bool
	URI               string
	Metadata          map[string]string
}

// curatorList returns the instances of service as Curator, with Spring's
// payload class, reads them; it fails on a record Curator cannot read.
func curatorList(t *testing.T, srv *zookeepertest.Server, service string) map[string]curatorInstance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := springDiscovery(t, ctx, srv, "list", service)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curator list %s: %v\n%s", service, err, stderr.String())
	}
	got := map[string]curatorInstance{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var in curatorInstance
		if err := json.Unmarshal([]byte(line), &in); err != nil {
			t.Fatalf("curator printed %q: %v", line, err)
		}
		got[in.ID] = in
	}
	return got
}

// A Spring app reads the copies: Curator's deserializer, checking the
// payload against Spring's class, takes every record the sink wrote, and
// sees what a Spring consumer would use (secure port, URI, status).
func TestCuratorReadsTheCopies(t *testing.T) {
	srv := zookeepertest.Start(t)
	c := newTestConnector(t, srv, "syncer-a", func(cfg *Config) { cfg.DownAs = DownMark })
	plain := copyOf("curator-orders", "curator-orders-1", "syncer-a", 18101)
	secure := copyOf("curator-orders", "curator-orders-2", "syncer-a", 18102)
	secure.SecurePort, secure.SecureEnabled, secure.Zone, secure.Weight = 18443, true, "zone-a", 2
	down := copyOf("curator-orders", "curator-orders-3", "syncer-a", 18103)
	down.Status = registry.StatusDown
	for _, cp := range []*registry.Instance{plain, secure, down} {
		put(t, c, cp)
	}

	got := curatorList(t, srv, "curator-orders")
	if len(got) != 3 {
		t.Fatalf("curator read %d instances (%v), want 3", len(got), got)
	}
	p, s, d := got[plain.ID], got[secure.ID], got[down.ID]
	if d.Port == nil || *d.Port != 18103 {
		t.Errorf("down copy read as %+v", d)
	}
	if p.Address != "127.0.0.1" || p.Port == nil || *p.Port != 18101 || p.SSLPort != nil || p.URI != "http://127.0.0.1:18101" || !p.Enabled {
		t.Errorf("plain copy read as %+v", p)
	}
	// Spring's default uriSpec puts the scheme of the SSL port before the
	// plain port ({scheme} is https once sslPort is set, {port} is the
	// port): Curator's quirk, which Spring's LoadBalancer does not follow
	// (it takes getPort(), the SSL port, for a secure instance).
	if s.SSLPort == nil || *s.SSLPort != 18443 || s.URI != "https://127.0.0.1:18102" || s.Metadata["zone"] != "zone-a" || s.Metadata["weight"] != "2" {
		t.Errorf("secure copy read as %+v", s)
	}
	for id, in := range got {
		want := "UP"
		if id == down.ID {
			want = "DOWN"
		}
		if in.Metadata[MetaInstanceStatus] != want || in.Metadata[registrysync.MetaOwner] != "syncer-a" || in.Metadata["version"] != "v1" {
			t.Errorf("%s metadata %v, want instance_status %s, the markers and version", id, in.Metadata, want)
		}
	}
}

// The source reads an instance registered through the real Curator as a
// Spring app registers it, and sees it go when the app deregisters.
func TestSourceReadsCuratorRegistrations(t *testing.T) {
	srv := zookeepertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app := springDiscovery(t, ctx, srv, "register", "curator-pay", "curator-pay-1", "10.2.3.4", "8080",
		"instance_status=UP", "version=v2", "zone=zone-b")
	stdin, err := app.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := app.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	registered, exited := make(chan bool, 1), make(chan error, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		registered <- strings.TrimSpace(line) == "registered"
		_, _ = io.Copy(io.Discard, r) // nothing more is expected; read to the end so Wait can return
		exited <- app.Wait()
	}()
	defer func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(within):
			t.Error("the Curator app did not exit after its stdin closed")
		}
	}()
	select {
	case ok := <-registered:
		if !ok {
			t.Fatal("the Curator app did not register")
		}
	case <-time.After(time.Minute):
		t.Fatal("the Curator app did not register within a minute")
	}

	c := newTestConnector(t, srv, "syncer-a")
	updates := connectortest.Follow(t, c)
	u := await(t, updates, "the Curator registration in a complete listing", func(u registrysync.Update) bool {
		return u.Complete && connectortest.Find(u, "curator-pay", "curator-pay-1") != nil
	})
	in := connectortest.Find(u, "curator-pay", "curator-pay-1")
	if in.Host != "10.2.3.4" || in.Port != 8080 || in.Status != registry.StatusUp || in.Zone != "zone-b" ||
		in.Metadata["version"] != "v2" || registrysync.IsCopy(in) || !in.Ephemeral {
		t.Errorf("read as %+v", in)
	}
	if _, kept := in.Metadata[MetaInstanceStatus]; kept {
		t.Errorf("instance_status kept in metadata %v: it is the status", in.Metadata)
	}
	stdin.Close()
	await(t, updates, "curator-pay without instances after the app deregistered", func(u registrysync.Update) bool {
		for _, g := range u.Groups {
			if g.Key.Service == "curator-pay" {
				return len(g.Instances) == 0
			}
		}
		return false
	})
}
