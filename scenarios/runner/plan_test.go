package runner

import (
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// fakeNet places component ports at predictable addresses.
type fakeNet struct{}

func (fakeNet) Listen(c, p string) string { return "L/" + c + "/" + p + ":1" }
func (fakeNet) Dial(c, p string) string   { return "D-" + c + "-" + p + ":2" }
func (fakeNet) Local(c, p string) string  { return "127.0.0.1:3" }
func (fakeNet) DataDir(c string) string   { return "/data/" + c }

const adapterHelp = `Usage: registry-adapter [flags]
  -config file
    	YAML configuration file
  -control-listen address
    	control API address
  -data-dir dir
    	embedded store directory
  -nacos-listen string
    	Nacos HTTP API address
  -eureka-listen string
    	Eureka API address
`

func mustScenario(t *testing.T, text string) *spec.Scenario {
	t.Helper()
	s, err := spec.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPlanBuildsComponentsAndArgs(t *testing.T) {
	s := mustScenario(t, `
name: p
topology:
  services:
    - name: orders
      registry: nacos
      versions:
        - {name: v1}
        - {name: v2, labels: {canary: "true", tier: gold}, latency: 5ms, errorRate: 10%}
steps:
  - wait: 1s
`)
	flags := helpFlags(adapterHelp)
	if !flags["nacos-listen"] || !flags["eureka-listen"] || flags["consul-listen"] {
		t.Fatalf("flags %v", flags)
	}
	comps, err := plan(s, flags, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range comps {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "registry edge orders-v1-0-sidecar orders-v1-0 orders-v2-0-sidecar orders-v2-0" {
		t.Fatalf("components %s", got)
	}
	reg := strings.Join(comps[0].Args(fakeNet{}), " ")
	// Nacos on, Eureka explicitly off (it would grab :8761), Consul unknown to this binary.
	for _, want := range []string{"--data-dir /data/registry", "--control-listen L/registry/control:1", "--nacos-listen=L/registry/nacos:1", "--eureka-listen="} {
		if !strings.Contains(reg, want) {
			t.Fatalf("registry args %q lack %q", reg, want)
		}
	}
	if strings.Contains(reg, "consul") {
		t.Fatalf("registry args %q name a flag the binary lacks", reg)
	}
	app := strings.Join(comps[5].Args(fakeNet{}), " ")
	for _, want := range []string{"--service orders", "--app-version v2", "--instance-id orders-v2-0", "--registry nacos",
		"--registry-url http://D-registry-nacos:2", "--nacos-grpc-port 2", "--advertise D-orders-v2-0-sidecar-ingress:2",
		"--egress http://127.0.0.1:3", "--metadata canary=true,label.tier=gold,version=v2", "--latency 5ms", "--error-rate 0.1"} {
		if !strings.Contains(app, want) {
			t.Fatalf("app args %q lack %q", app, want)
		}
	}
	sc := strings.Join(comps[4].Args(fakeNet{}), " ")
	for _, want := range []string{"--service orders", "--control http://D-registry-control:2", "--service-ports rest:3", "--ingress L/orders-v2-0-sidecar/ingress:1"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("sidecar args %q lack %q", sc, want)
		}
	}
	if comps[5].Pod != "orders-v2-0-sidecar" || comps[5].Labels["tier"] != "gold" {
		t.Fatalf("app component %+v", comps[5])
	}
}

func TestPlanRefusesAnAPITheAdapterLacks(t *testing.T) {
	s := mustScenario(t, `
name: p
topology:
  services:
    - name: orders
      registry: consul
      versions: [{name: v1}]
steps:
  - wait: 1s
`)
	_, err := plan(s, helpFlags(adapterHelp), false)
	if err == nil || !strings.Contains(err.Error(), "--consul-listen") {
		t.Fatalf("err %v", err)
	}
}

func TestProviderRegistry(t *testing.T) {
	if _, ok := LookupProvider("nonexistent"); ok {
		t.Fatal("found a provider nobody registered")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a provider without a name did not panic")
		}
	}()
	RegisterProvider("", Factory{})
}

// componentsByName indexes a plan's components by name.
func componentsByName(comps []*Component) map[string]*Component {
	out := map[string]*Component{}
	for _, c := range comps {
		out[c.Name] = c
	}
	return out
}
