package runner

import (
	"slices"
	"strings"
	"testing"
)

func TestPlanLegacyRegistryAndSyncer(t *testing.T) {
	s := mustScenario(t, `
name: p
topology:
  legacy:
    - {name: old-eureka, protocol: eureka}
    - {name: old-nacos, protocol: nacos}
  syncers:
    - name: syncer
      pairs:
        - {from: old-eureka, to: mesh, direction: both}
        - {from: old-nacos, to: mesh}
  services:
    - name: billing
      registry: eureka
      legacyRegistry: old-eureka
      sidecar: false
      versions: [{name: v1}]
    - name: pay
      registry: nacos
      legacyRegistry: old-nacos
      sidecar: false
      versions: [{name: v1}]
steps:
  - traffic: {name: t, service: billing, rate: 10, requests: 10}
`)
	comps, err := plan(s, helpFlags(adapterHelp), false)
	if err != nil {
		t.Fatal(err)
	}
	byName := componentsByName(comps)
	// The legacy registry serves its one protocol, none of the mesh's.
	legacy := byName["old-eureka"]
	if legacy == nil || legacy.Role != RoleLegacy {
		t.Fatalf("old-eureka: %+v", legacy)
	}
	args := strings.Join(legacy.Args(fakeNet{}), " ")
	if !strings.Contains(args, "--eureka-listen=L/old-eureka/http:1") || !strings.HasSuffix(args, "--nacos-listen=") {
		t.Errorf("old-eureka args %s", args)
	}
	if ports := byName["old-nacos"].Ports; !slices.ContainsFunc(ports, func(p Port) bool { return p.Name == "grpc" && p.Follows == "http" && p.Offset == 1000 }) {
		t.Errorf("old-nacos ports %+v", ports)
	}
	// Its apps register there.
	app := strings.Join(byName["billing-v1-0"].Args(fakeNet{}), " ")
	if !strings.Contains(app, "--registry eureka --registry-url http://D-old-eureka-http:2/eureka") {
		t.Errorf("billing-v1-0 args %s", app)
	}
	if app := strings.Join(byName["pay-v1-0"].Args(fakeNet{}), " "); !strings.Contains(app, "--nacos-grpc-port 2") {
		t.Errorf("pay-v1-0 args %s", app)
	}
	// Legacy apps find their callees in their registry, Nacos too.
	for _, name := range []string{"billing-v1-0", "pay-v1-0"} {
		if app := strings.Join(byName[name].Args(fakeNet{}), " "); !strings.Contains(app, "--discovery-refresh "+legacyFetch) {
			t.Errorf("%s args %s", name, app)
		}
	}
	if byName["syncer"] == nil || byName["syncer"].Binary != BinSyncer {
		t.Fatalf("syncer: %+v", byName["syncer"])
	}
	want := `id: syncer
registries:
  - {name: old-eureka, type: eureka, urls: ["http://D-old-eureka-http:2/eureka"]}
  - {name: mesh, type: mesh, url: "http://D-registry-control:2"}
  - {name: old-nacos, type: nacos, servers: ["D-old-nacos-http:2"], grpcPort: 2, logDir: "/data/syncer/nacos-log", cacheDir: "/data/syncer/nacos-cache"}
pairs:
  - {from: old-eureka, to: mesh, direction: both}
  - {from: old-nacos, to: mesh, direction: one-way}
admin:
  listen: "L/syncer/admin:1"
log:
  level: info
`
	if got := syncerConfig(fakeNet{}, s, s.Topology.Syncers[0]); got != want {
		t.Errorf("syncer config:\n%s\nwant:\n%s", got, want)
	}
}
