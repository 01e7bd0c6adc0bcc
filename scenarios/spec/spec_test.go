package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/config/configtest"
)

func TestShippedScenariosLoad(t *testing.T) {
	files, _ := filepath.Glob("../*.yaml")
	if len(files) < 5 {
		t.Fatalf("found %d shipped scenarios, want at least 5", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if s.Path != f || s.Provider != ProviderProcess || len(s.StepLines) != len(s.Steps) {
				t.Fatalf("loaded %+v", s)
			}
		})
	}
}

func TestBadScenariosAreRejectedWithTheFieldNamed(t *testing.T) {
	configtest.RejectsBad(t, func(_ *testing.T, path string) error {
		_, err := Load(path)
		return err
	})
}

func TestDefaultsAndDerivedValues(t *testing.T) {
	s, err := Parse([]byte(`
name: d
topology:
  registry: {apis: [consul]}
  services:
    - name: orders
      registry: nacos
      versions:
        - {name: v1, instances: 2}
        - {name: v2, labels: {canary: "true", tier: gold}}
    - name: pay
      sidecar: false
      versions: [{name: v1}]
steps:
  - traffic: {name: t, service: orders, rate: 10, requests: 10}
  - assert: {instances: {service: orders, count: 3}}
  - assert: {instance: {view: eureka, component: orders-v2-0, present: true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	tr := s.Steps[0].Traffic
	if s.Timeout != 5*time.Minute || tr.Path != "/" || tr.Method != "GET" || tr.Timeout != 5*time.Second || tr.Via != ComponentEdge {
		t.Fatalf("defaults not applied: %+v %+v", s, tr)
	}
	if s.Steps[1].Assert.Instances.View != "control" {
		t.Fatal("instances view default")
	}
	if got := strings.Join(s.FrontEnds(), ","); got != "consul,eureka,nacos" {
		t.Fatalf("front-ends %s", got)
	}
	names := strings.Join(s.Topology.ComponentNames(), " ")
	if names != "registry edge orders-v1-0 orders-v1-0-sidecar orders-v1-1 orders-v1-1-sidecar orders-v2-0 orders-v2-0-sidecar pay-v1-0" {
		t.Fatalf("components %s", names)
	}
	v2 := &s.Topology.Services[0].Versions[1]
	if rl := RoutingLabels(v2); rl["version"] != "v2" || rl["canary"] != "true" || rl["label.tier"] != "gold" {
		t.Fatalf("routing labels %v", rl)
	}
	if l := Labels(v2); l["tier"] != "gold" || !LabelsMatch(l, map[string]string{"version": "v2", "canary": "true"}) {
		t.Fatalf("labels %v", l)
	}
}

func TestParseShare(t *testing.T) {
	for in, want := range map[string]float64{"90%": 0.9, "0.1": 0.1, "2.5%": 0.025, "0": 0, "100%": 1} {
		if got, err := ParseShare(in); err != nil || got != want {
			t.Fatalf("%q -> %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"101%", "1.5", "-1", "x%", ""} {
		if _, err := ParseShare(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err == nil && (s.Name == "" || len(s.Steps) == 0) {
			t.Fatalf("accepted a scenario without name or steps: %q", data)
		}
	})
}
