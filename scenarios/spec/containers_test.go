package spec

import (
	"strings"
	"testing"
	"time"
)

// withContainers is a container-provider scenario with one Consul
// container, a service registering with it and one meshed service; extra
// is spliced into the container's fields, steps replace the steps.
func withContainers(extra, steps string) string {
	return `
name: c
provider: container
topology:
  containers:
    - name: consul
      image: hashicorp/consul:1.19
      ports: [{name: http, port: 8500}, {name: serf, port: 8301}]
      ready: {port: http, path: /v1/status/leader, body: ":8300"}
` + extra + `
  services:
    - name: billing
      registry: consul
      registryContainer: consul
      sidecar: false
      versions: [{name: v1}]
    - name: orders
      registry: eureka
      versions: [{name: v1}]
steps:
` + steps
}

func TestContainersParse(t *testing.T) {
	s, err := Parse([]byte(withContainers(`      env: {CONSUL_BIND_INTERFACE: eth0}
      args: [agent, -dev, -client=0.0.0.0]`, `
  - traffic: {name: leader, container: consul, path: /v1/status/leader, rate: 10, requests: 10}
  - assert: {errorRate: {traffic: leader, max: 0%}}
  - assert: {within: 30s, instances: {view: consul, from: consul, service: billing, count: 1}}
  - assert: {instance: {view: consul, from: consul, component: billing-v1-0, present: true}}
  - pause: consul
  - resume: consul
  - cut: consul
  - heal: consul
  - restart: consul
  - kill: consul
`)))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Topology.Containers[0]
	if c.Ready.Status != 200 || c.Ready.Timeout != DefaultReadyTimeout || c.Env["CONSUL_BIND_INTERFACE"] != "eth0" || len(c.Args) != 3 {
		t.Fatalf("container %+v", c)
	}
	if got := s.ContainerLines; len(got) != 1 || got[0] != 6 {
		t.Fatalf("container lines %v", got)
	}
	if tr := s.Steps[0].Traffic; tr.Via != "" || tr.Container != "consul" {
		t.Fatalf("container traffic %+v", tr)
	}
	// Only the meshed service's API is served by the registry-adapter:
	// billing registers with the container, and the views read it there.
	if got := strings.Join(s.FrontEnds(), ","); got != "eureka" {
		t.Fatalf("front-ends %s", got)
	}
	if got := strings.Join(s.Topology.ComponentNames(), " "); got != "registry edge consul billing-v1-0 orders-v1-0 orders-v1-0-sidecar" {
		t.Fatalf("components %s", got)
	}
	if s.Topology.IsApp("consul") || !s.Topology.IsApp("billing-v1-0") || s.Topology.Meshed(&s.Topology.Services[0]) || !s.Topology.Meshed(&s.Topology.Services[1]) {
		t.Fatal("roles of components")
	}
}

func TestContainersValidation(t *testing.T) {
	cases := []struct {
		name, extra, steps, want string
	}{
		{"name taken by a service", "    - {name: orders, image: nginx:1.27, ports: [{name: http, port: 80}], ready: {port: http, path: /}}",
			"  - wait: 1s", `topology.containers[1] (line 10).name: "orders" is already a service`},
		{"name taken by a demo app", "    - {name: orders-v1-0, image: nginx:1.27, ports: [{name: http, port: 80}], ready: {port: http, path: /}}",
			"  - wait: 1s", `topology.containers[1] (line 10).name: "orders-v1-0" is already a demo app`},
		{"reserved name", "    - {name: registry, image: nginx:1.27, ports: [{name: http, port: 80}], ready: {port: http, path: /}}",
			"  - wait: 1s", `"registry" is already reserved`},
		{"duplicate container", "    - {name: consul, image: nginx:1.27, ports: [{name: http, port: 80}], ready: {port: http, path: /}}",
			"  - wait: 1s", `"consul" is already a container`},
		{"bad image", "    - {name: web, image: 'Nginx:1.27', ports: [{name: http, port: 80}], ready: {port: http, path: /}}",
			"  - wait: 1s", `topology.containers[1] (line 10).image: "Nginx:1.27" is not an image reference`},
		{"image with spaces", "    - {name: web, image: 'nginx 1.27', ports: [{name: http, port: 80}], ready: {port: http, path: /}}",
			"  - wait: 1s", `is not an image reference`},
		{"no image", "    - {name: web, ports: [{name: http, port: 80}], ready: {port: http, path: /}}",
			"  - wait: 1s", `topology.containers[1] (line 10).image: required`},
		{"no ports", "    - {name: web, image: nginx:1.27, ready: {port: http, path: /}}",
			"  - wait: 1s", `.ports: at least one port is required`},
		{"port out of range", "    - {name: web, image: nginx:1.27, ports: [{name: http, port: 70000}], ready: {port: http, path: /}}",
			"  - wait: 1s", `.ports[0].port: must be 1-65535, got 70000`},
		{"duplicate port", "    - {name: web, image: nginx:1.27, ports: [{name: http, port: 80}, {name: alt, port: 80}], ready: {port: http, path: /}}",
			"  - wait: 1s", `.ports[1].port: duplicate port 80`},
		{"bad env key", "    - {name: web, image: nginx:1.27, env: {'A-B': x}, ports: [{name: http, port: 80}], ready: {port: http, path: /}}",
			"  - wait: 1s", `.env: bad variable name "A-B"`},
		{"ready path", "    - {name: web, image: nginx:1.27, ports: [{name: http, port: 80}], ready: {port: http}}",
			"  - wait: 1s", `.ready.path: required, starting with /`},
		{"ready status", "    - {name: web, image: nginx:1.27, ports: [{name: http, port: 80}], ready: {port: http, path: /, status: 700}}",
			"  - wait: 1s", `.ready.status: must be 100-599, got 700`},
		{"ready timeout", "    - {name: web, image: nginx:1.27, ports: [{name: http, port: 80}], ready: {port: http, path: /, timeout: 11m}}",
			"  - wait: 1s", `.ready.timeout: must be more than 0 and at most 10m0s`},
		{"traffic to a container without http", "    - {name: web, image: nginx:1.27, ports: [{name: web, port: 80}], ready: {port: web, path: /}}",
			"  - traffic: {name: t, container: web, rate: 1, requests: 1}", `traffic.container: container "web" has no port named http`},
		{"traffic to an unknown container", "",
			"  - traffic: {name: t, container: vault, rate: 1, requests: 1}", `traffic.container: "vault" is not a container of the topology (containers: consul)`},
		{"traffic with service and container", "",
			"  - traffic: {name: t, service: orders, container: consul, rate: 1, requests: 1}", `traffic: set exactly one of service and container`},
		{"traffic to a container via a sidecar", "",
			"  - traffic: {name: t, container: consul, via: edge, rate: 1, requests: 1}", `traffic.via: a container is reached from the runner directly`},
		{"share of container traffic", "",
			"  - traffic: {name: t, container: consul, rate: 1, requests: 1}\n  - assert: {share: {traffic: t, expect: {v1: 100%}}}",
			`share.traffic: "t" goes to container "consul", whose answers name no versions`},
		{"control view from a container", "",
			"  - assert: {instances: {view: control, from: consul, service: billing, count: 1}}", `instances.view: must be one of eureka, consul, nacos with from`},
		{"view from an unknown container", "",
			"  - assert: {instance: {view: consul, from: etcd, component: billing-v1-0, present: true}}", `instance.from: "etcd" is not a container`},
		{"appFault on a container", "",
			"  - appFault: {component: consul, latency: 1s}", `appFault.component: "consul" is not a demo app`},
		{"instance of a container", "",
			"  - assert: {instance: {view: consul, from: consul, component: consul, present: true}}", `instance.component: "consul" is not a demo app`},
		{"fault on a pattern matching nothing", "",
			"  - kill: vault", `kill: "vault" matches no component (components: registry, edge, consul,`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(withContainers(tc.extra, tc.steps)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestRegistryContainerValidation(t *testing.T) {
	base := `
name: c
provider: container
topology:
  containers:
    - {name: nacos, image: nacos/nacos-server:v2.4.3, ports: [{name: web, port: 8848}], ready: {port: web, path: /}}
  services:
    - {name: billing, registry: %s, registryContainer: %s, versions: [{name: v1}]}
steps:
  - wait: 1s
`
	for _, tc := range []struct{ registry, container, want string }{
		{"nacos", "nacos", `topology.services[0].registryContainer: container "nacos" has no port named http`},
		{"nacos", "zk", `topology.services[0].registryContainer: "zk" is not a container of the topology (containers: nacos)`},
		{"control", "nacos", `registryContainer: needs registry eureka, consul or nacos`},
	} {
		_, err := Parse([]byte(strings.NewReplacer("%s, registryContainer: %s", tc.registry+", registryContainer: "+tc.container).Replace(base)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s/%s: err = %v\nwant it to contain %q", tc.registry, tc.container, err, tc.want)
		}
	}
}

func TestImageReferences(t *testing.T) {
	good := []string{"hashicorp/consul:1.19", "nacos/nacos-server:v2.4.3", "steeltoe.azurecr.io/eureka-server:4",
		"localhost:5000/team/registry:dev", "consul@sha256:" + strings.Repeat("ab", 32), "quay.io/coreos/etcd:v3.5.17", "a_b__c-d:latest"}
	for _, ref := range good {
		if !imageRE.MatchString(ref) || !pinned(ref) {
			t.Errorf("%q refused", ref)
		}
	}
	for _, ref := range []string{"Consul:1", "consul:", "consul:-x", "/consul:1", "consul 1", "consul:1@sha256:zz", "-a:1"} {
		if imageRE.MatchString(ref) {
			t.Errorf("%q accepted", ref)
		}
	}
	for _, ref := range []string{"hashicorp/consul", "localhost:5000/consul"} {
		if pinned(ref) {
			t.Errorf("%q counted as pinned", ref)
		}
	}
}

func TestImageExamplesLoad(t *testing.T) {
	files := []string{"../registry-images/consul.yaml", "../registry-images/nacos.yaml", "../registry-images/eureka.yaml"}
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if s.Provider != ProviderContainer || len(s.Topology.Containers) == 0 || s.Topology.Containers[0].Ready.Timeout > 5*time.Minute {
			t.Fatalf("%s: %+v", f, s.Topology)
		}
	}
}
