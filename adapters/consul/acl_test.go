package consul

import (
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

func TestACL(t *testing.T) {
	const token = "s3cr3t-token"
	env := newEnv(t, func(o *Options) { o.ACLToken = token })
	body := `{"ID":"acl-1","Name":"acl","Port":80}`

	for _, tc := range []struct {
		name string
		path string
		hdr  map[string]string
		want int
	}{
		{"no token", "/v1/agent/service/register", nil, 403},
		{"wrong X-Consul-Token", "/v1/agent/service/register", map[string]string{"X-Consul-Token": "nope"}, 403},
		{"wrong bearer", "/v1/agent/service/register", map[string]string{"Authorization": "Bearer nope"}, 403},
		{"wrong query token", "/v1/agent/service/register?token=nope", nil, 403},
		{"basic auth is not a token", "/v1/agent/service/register", map[string]string{"Authorization": "Basic " + token}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, _ := env.do("PUT", tc.path, strings.NewReader(body), tc.hdr)
			if status != tc.want {
				t.Fatalf("status %d, want %d", status, tc.want)
			}
			if got := env.instances("acl"); len(got) != 0 {
				t.Fatalf("denied request changed the registry: %+v", got)
			}
		})
	}
	for _, path := range []string{"/v1/catalog/services", "/v1/health/service/acl", "/v1/kv/x", "/v1/agent/self"} {
		if status, _, _ := env.do("GET", path, nil, nil); status != 403 {
			t.Errorf("GET %s without token: %d, want 403", path, status)
		}
	}
	// Status endpoints need no token, as in Consul.
	if status, _, _ := env.do("GET", "/v1/status/leader", nil, nil); status != 200 {
		t.Errorf("status/leader without token: %d", status)
	}

	for i, hdr := range []map[string]string{
		{"X-Consul-Token": token},
		{"Authorization": "Bearer " + token},
		nil, // ?token= below
	} {
		path := "/v1/agent/service/register"
		if hdr == nil {
			path += "?token=" + token
		}
		b := strings.Replace(body, "acl-1", "acl-"+string(rune('a'+i)), 1)
		if status, _, msg := env.do("PUT", path, strings.NewReader(b), hdr); status != 200 {
			t.Fatalf("accepted token form %d: status %d %s", i, status, msg)
		}
	}
	if got := env.instances("acl"); len(got) != 3 {
		t.Fatalf("registered with valid tokens: %d instances, want 3", len(got))
	}

	// consul/api with the token configured works end to end; without it, it is denied.
	if _, _, err := env.client.Catalog().Services(nil); err != nil {
		t.Fatalf("client with token: %v", err)
	}
	cfg := api.DefaultConfig()
	cfg.Address = strings.TrimPrefix(env.url, "http://")
	anon, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = anon.Catalog().Services(nil)
	if se, ok := err.(api.StatusError); !ok || se.Code != 403 {
		t.Fatalf("client without token: %v, want a 403 StatusError", err)
	}
}
