package consul

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

func TestBadInputChangesNothing(t *testing.T) {
	env := newEnv(t)
	if err := env.client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "keep-1", Name: "keep", Port: 80,
		Check: &api.AgentServiceCheck{TTL: "30s"}}); err != nil {
		t.Fatal(err)
	}
	before := env.store.Revision()
	huge := `{"Name":"big","Meta":{"k":"` + strings.Repeat("x", 2<<20) + `"}}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		reason                   string
	}{
		{"malformed JSON", "PUT", "/v1/agent/service/register", `{"Name":"web",`, 400, "Request decode failed: "},
		{"not an object", "PUT", "/v1/agent/service/register", `[1,2]`, 400, "Request decode failed: "},
		{"unknown field", "PUT", "/v1/agent/service/register", `{"Name":"web","Bogus":1}`, 400, `Request decode failed: json: unknown field "Bogus"`},
		{"empty body", "PUT", "/v1/agent/service/register", ``, 400, "Request decode failed: "},
		{"missing name", "PUT", "/v1/agent/service/register", `{"ID":"x"}`, 400, "Missing service name"},
		{"bad meta key", "PUT", "/v1/agent/service/register", `{"Name":"web","Meta":{"a.b":"c"}}`, 400, "Invalid Service Meta: "},
		{"bad weights", "PUT", "/v1/agent/service/register", `{"Name":"web","Weights":{"Passing":0,"Warning":1}}`, 400, "Invalid Weights: Passing must be greater than 0"},
		{"check without ttl or interval", "PUT", "/v1/agent/service/register", `{"Name":"web","Check":{"Notes":"x"}}`, 400, "Invalid check: TTL must be > 0 for TTL checks"},
		{"http check without interval", "PUT", "/v1/agent/service/register", `{"Name":"web","Check":{"HTTP":"http://x"}}`, 400, "Invalid check: Interval must be > 0"},
		{"bad check duration", "PUT", "/v1/agent/service/register", `{"Name":"web","Check":{"TTL":"soon"}}`, 400, "Request decode failed: "},
		{"bad check status", "PUT", "/v1/agent/service/register", `{"Name":"web","Check":{"TTL":"10s","Status":"ok"}}`, 400, "Status for checks must"},
		{"script check", "PUT", "/v1/agent/service/register", `{"Name":"web","Check":{"Args":["/bin/true"],"Interval":"10s"}}`, 400, "Invalid check: meshbridge runs TTL, HTTP and TCP checks only"},
		{"unspecified address", "PUT", "/v1/agent/service/register", `{"Name":"web","Address":"0.0.0.0"}`, 400, "Invalid service address"},
		{"oversized body", "PUT", "/v1/agent/service/register", huge, 413, "Request body too large"},
		{"bad check update", "PUT", "/v1/agent/check/update/service:keep-1", `{"Status":"fine"}`, 400, "Invalid check status: 'fine'"},
		{"malformed check update", "PUT", "/v1/agent/check/update/service:keep-1", `{"Status":`, 400, "Request decode failed: "},
		{"unknown check", "PUT", "/v1/agent/check/pass/nope", ``, 404, `Unknown check ID "nope"`},
		{"unknown service", "PUT", "/v1/agent/service/deregister/nope", ``, 404, `Unknown service ID "nope"`},
		{"wrong method", "GET", "/v1/agent/service/register", ``, 405, "method GET not allowed"},
		{"kv too large", "PUT", "/v1/kv/big", strings.Repeat("v", 600*1024), 413, "Request body(614400 bytes) too large, max size: 524288 bytes."},
		{"kv missing key", "PUT", "/v1/kv/", "x", 400, "Missing key name"},
		{"kv bad cas", "PUT", "/v1/kv/a?cas=x", "x", 400, "Invalid cas index"},
		{"kv conflicting flags", "DELETE", "/v1/kv/a?recurse&cas=1", "", 400, "Conflicting flags"},
		{"kv sessions", "PUT", "/v1/kv/a?acquire=abc", "x", 400, "sessions"},
		{"unknown endpoint", "GET", "/v1/agent/nothing-here", "", 404, "Invalid URL path: not a recognized HTTP API endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := env.do(tc.method, tc.path, strings.NewReader(tc.body), nil)
			if status != tc.status || !bytes.Contains(body, []byte(tc.reason)) {
				t.Fatalf("%d %q, want %d containing %q", status, body, tc.status, tc.reason)
			}
			if !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
				t.Errorf("error content type %q", hdr.Get("Content-Type"))
			}
		})
	}
	if after := env.store.Revision(); after != before {
		t.Fatalf("bad input changed the store: revision %d -> %d", before, after)
	}
	checks, err := env.client.Agent().Checks()
	if err != nil || checks["service:keep-1"] == nil || checks["service:keep-1"].Status != "critical" {
		t.Fatalf("existing check disturbed: %+v, %v", checks, err)
	}
}

// TestRegisterRefusesWhatViewsCannotCarry: a registration through the real
// consul/api client holding what some view cannot carry gets Consul's 400
// and changes nothing. Each one used to be stored: an address with U+0001
// broke every Eureka XML fetch, a CRLF address went to clients verbatim,
// "." and ".." made the deregistration a redirect, and "grp@@svc" was
// listed by Nacos but could not be looked up there.
func TestRegisterRefusesWhatViewsCannotCarry(t *testing.T) {
	env := newEnv(t)
	before := env.store.Revision()
	reg := func(change func(*api.AgentServiceRegistration)) *api.AgentServiceRegistration {
		r := &api.AgentServiceRegistration{ID: "pay-1", Name: "payments", Address: "10.0.0.1", Port: 8080}
		change(r)
		return r
	}
	for _, tc := range []struct {
		name   string
		reg    *api.AgentServiceRegistration
		reason string
	}{
		{"address with U+0001", reg(func(r *api.AgentServiceRegistration) { r.Address = "10.0.0.1\x01" }), "Invalid service address"},
		{"address with CRLF", reg(func(r *api.AgentServiceRegistration) { r.Address = "h\r\nX-Injected: 1" }), "Invalid service address"},
		{"tagged address with CRLF", reg(func(r *api.AgentServiceRegistration) {
			r.TaggedAddresses = map[string]api.ServiceAddress{"lan": {Address: "h\r\nX-Injected: 1", Port: 80}}
		}), "Invalid tagged address"},
		{"name with U+FFFE", reg(func(r *api.AgentServiceRegistration) { r.Name = "pay\uFFFEments" }), "Validation failed: service name"},
		{"name with the Nacos group separator", reg(func(r *api.AgentServiceRegistration) { r.Name = "grp@@svc" }), "Validation failed: service name"},
		{"id .", reg(func(r *api.AgentServiceRegistration) { r.ID = "." }), "Validation failed: service ID"},
		{"id ..", reg(func(r *api.AgentServiceRegistration) { r.ID = ".." }), "Validation failed: service ID"},
		{"meta value with U+0001", reg(func(r *api.AgentServiceRegistration) { r.Meta = map[string]string{"version": "v\x01"} }), "Validation failed: metadata.version"},
		{"tag with U+001B", reg(func(r *api.AgentServiceRegistration) { r.Tags = []string{"\x1b[0m"} }), "Validation failed: tags[0]"},
		{"check name with U+FFFF", reg(func(r *api.AgentServiceRegistration) {
			r.Check = &api.AgentServiceCheck{Name: "alive\uFFFF", TTL: "30s"}
		}), "Validation failed: attributes.consul.check."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := env.client.Agent().ServiceRegister(tc.reg)
			var se api.StatusError
			if !errors.As(err, &se) || se.Code != 400 || !strings.Contains(se.Body, tc.reason) {
				t.Fatalf("register = %v, want 400 containing %q", err, tc.reason)
			}
		})
	}
	if after := env.store.Revision(); after != before {
		t.Fatalf("refused registrations changed the store: revision %d -> %d", before, after)
	}
}

// TestCheckOutputIsScrubbed: a TTL update whose output holds characters no
// view may carry still records its status; those characters become U+FFFD.
func TestCheckOutputIsScrubbed(t *testing.T) {
	env := newEnv(t)
	if err := env.client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 80,
		Check: &api.AgentServiceCheck{CheckID: "web-ttl", TTL: "30s"}}); err != nil {
		t.Fatal(err)
	}
	if err := env.client.Agent().UpdateTTL("web-ttl", "ok\x00\x1b\uFFFF", api.HealthPassing); err != nil {
		t.Fatalf("update: %v", err)
	}
	checks, err := env.client.Agent().Checks()
	if err != nil || checks["web-ttl"] == nil {
		t.Fatalf("checks: %v %+v", err, checks)
	}
	if c := checks["web-ttl"]; c.Status != api.HealthPassing || c.Output != "ok\uFFFD\uFFFD\uFFFD" {
		t.Fatalf("check %q output %q, want passing with the forbidden characters replaced", c.Status, c.Output)
	}
}
