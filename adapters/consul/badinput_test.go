package consul

import (
	"bytes"
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
