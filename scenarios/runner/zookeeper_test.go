package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/internal/zkserver"
)

// dirNet is fakeNet with real data directories, for components whose
// Args write files there.
type dirNet struct {
	fakeNet
	dir string
}

func (n dirNet) DataDir(c string) string { return filepath.Join(n.dir, c) }

const legacyZooKeeperScenario = `
name: z
topology:
  legacy:
    - {name: legacy-zk, protocol: zookeeper}
  syncers:
    - name: syncer
      pairs:
        - {from: legacy-zk, to: mesh, direction: both}
  services:
    - name: billing
      registry: zookeeper
      legacyRegistry: legacy-zk
      sidecar: false
      versions: [{name: v1}]
steps:
  - traffic: {name: t, service: billing, rate: 10, requests: 10}
`

func TestPlanLegacyZooKeeper(t *testing.T) {
	s := mustScenario(t, legacyZooKeeperScenario)
	comps, err := plan(s, helpFlags(adapterHelp), false)
	if _, missing := zkserver.Find(); missing != nil {
		// Without ZooKeeper the run is skipped with this reason.
		if err == nil || !strings.Contains(err.Error(), "make zookeeper") {
			t.Fatalf("plan without ZooKeeper installed: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	byName := componentsByName(comps)
	zk := byName["legacy-zk"]
	if zk == nil || zk.Role != RoleLegacy || filepath.Base(zk.Program) != "java" || zk.Ready.Protocol != ProbeZooKeeper || zk.Ready.Port != zkClientPort {
		t.Fatalf("legacy-zk: %+v", zk)
	}
	n := dirNet{dir: t.TempDir()}
	args := zk.Args(n)
	cfg := filepath.Join(n.DataDir("legacy-zk"), "zoo.cfg")
	if args[len(args)-1] != cfg {
		t.Fatalf("legacy-zk args %q, want the configuration %s last", args, cfg)
	}
	data, err := os.ReadFile(cfg)
	if err != nil || !strings.Contains(string(data), "clientPort=1\nclientPortAddress=L/legacy-zk/client\n") {
		t.Fatalf("zoo.cfg %q, %v", data, err)
	}
	app := strings.Join(byName["billing-v1-0"].Args(fakeNet{}), " ")
	if !strings.Contains(app, "--registry zookeeper --registry-url D-legacy-zk-client:2") || !strings.Contains(app, "--discovery-refresh "+zkResync) {
		t.Errorf("billing-v1-0 args %s", app)
	}
	if got := syncerConfig(fakeNet{}, s, s.Topology.Syncers[0]); !strings.Contains(got, `  - {name: legacy-zk, type: zookeeper, servers: ["D-legacy-zk-client:2"], root: /services}`) {
		t.Errorf("syncer config:\n%s", got)
	}
}

// Under a provider that runs images the legacy ZooKeeper is the image
// made by make zookeeper-image, with its own CMD, whether or not
// ZooKeeper is installed here; the syncer and the apps dial it by name.
func TestPlanLegacyZooKeeperImage(t *testing.T) {
	s := mustScenario(t, legacyZooKeeperScenario)
	comps, err := plan(s, helpFlags(adapterHelp), true)
	if err != nil {
		t.Fatal(err)
	}
	byName := componentsByName(comps)
	zk := byName["legacy-zk"]
	if zk == nil || zk.Role != RoleLegacy || zk.Image != ZooKeeperImage || zk.BuiltBy != "make zookeeper-image" || zk.Program != "" ||
		zk.Ready.Protocol != ProbeZooKeeper || zk.Ready.Port != zkClientPort || len(zk.Ports) != 1 || zk.Ports[0].Container != 2181 {
		t.Fatalf("legacy-zk: %+v", zk)
	}
	if args := zk.Args(fakeNet{}); args != nil {
		t.Fatalf("legacy-zk args %q, want none (the image's CMD)", args)
	}
	if app := strings.Join(byName["billing-v1-0"].Args(fakeNet{}), " "); !strings.Contains(app, "--registry zookeeper --registry-url D-legacy-zk-client:2") {
		t.Errorf("billing-v1-0 args %s", app)
	}
	if got := syncerConfig(fakeNet{}, s, s.Topology.Syncers[0]); !strings.Contains(got, `servers: ["D-legacy-zk-client:2"]`) {
		t.Errorf("syncer config:\n%s", got)
	}
}
