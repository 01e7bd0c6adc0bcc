package nacos_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
)

// The request shapes below follow the 1.x Java client's NamingProxy:
// serviceName is sent grouped (group@@service), the beat carries the
// RsInfo JSON, and metadata is a JSON string.

func TestHTTPNamingLikeJava1Client(t *testing.T) {
	e := startEnv(t, testOptions())
	form := url.Values{
		"namespaceId": {"public"}, "serviceName": {"DEFAULT_GROUP@@orders"}, "groupName": {"DEFAULT_GROUP"},
		"clusterName": {"DEFAULT"}, "ip": {"10.9.0.1"}, "port": {"8080"}, "weight": {"2.0"}, "enable": {"true"},
		"healthy": {"true"}, "ephemeral": {"true"}, "metadata": {`{"version":"v1","preserved.register.source":"SPRING_CLOUD"}`},
	}
	if body := postForm(t, e, "/nacos/v1/ns/instance", form.Encode()); body != "ok" {
		t.Fatalf("register answered %q", body)
	}
	code, body := do(t, e, http.MethodGet, "/nacos/v1/ns/instance/list", "serviceName=DEFAULT_GROUP%40%40orders&namespaceId=public&clusters=&healthyOnly=false&udpPort=0&clientIP=10.9.0.9", nil)
	var info naming.ServiceInfo
	if code != 200 || json.Unmarshal([]byte(body), &info) != nil {
		t.Fatalf("list: %d %s", code, body)
	}
	if info.Name != "DEFAULT_GROUP@@orders" || len(info.Hosts) != 1 || info.Hosts[0].Weight != 2 || !info.Hosts[0].Enabled ||
		info.Hosts[0].Metadata["version"] != "v1" || info.Hosts[0].InstanceID != "10.9.0.1#8080#DEFAULT#DEFAULT_GROUP@@orders" {
		t.Fatalf("list answer: %s", body)
	}

	// Light beat (no body) of a known instance: code 10200.
	code, body = do(t, e, http.MethodPut, "/nacos/v1/ns/instance/beat", "serviceName=DEFAULT_GROUP%40%40orders&namespaceId=public&clusterName=DEFAULT&ip=10.9.0.1&port=8080", nil)
	if code != 200 || !strings.Contains(body, `"code":10200`) || !strings.Contains(body, `"clientBeatInterval":5000`) {
		t.Fatalf("beat: %d %s", code, body)
	}
	// Light beat of an unknown instance: 20404 makes the client re-register.
	_, body = do(t, e, http.MethodPut, "/nacos/v1/ns/instance/beat", "serviceName=DEFAULT_GROUP%40%40orders&ip=10.9.0.2&port=8080", nil)
	if !strings.Contains(body, `"code":20404`) {
		t.Fatalf("beat of unknown instance: %s", body)
	}
	// A full beat of an unknown instance registers it (data compensation).
	beat := `{"serviceName":"DEFAULT_GROUP@@orders","ip":"10.9.0.3","port":8081,"cluster":"DEFAULT","weight":1.0,"metadata":{},"scheduled":true}`
	_, body = do(t, e, http.MethodPut, "/nacos/v1/ns/instance/beat", "serviceName=DEFAULT_GROUP%40%40orders&beat="+url.QueryEscape(beat), nil)
	if !strings.Contains(body, `"code":10200`) || len(listService(t, e.store, "orders")) != 2 {
		t.Fatalf("full beat: %s", body)
	}

	// Update (Spring Cloud Alibaba's status DOWN): enabled=false.
	do(t, e, http.MethodPut, "/nacos/v1/ns/instance", "serviceName=orders&ip=10.9.0.1&port=8080&enabled=false&ephemeral=true", nil)
	_, body = do(t, e, http.MethodGet, "/nacos/v1/ns/instance/list", "serviceName=orders", nil)
	if strings.Contains(body, `"ip":"10.9.0.1"`) {
		t.Fatalf("disabled instance still listed: %s", body)
	}
	code, body = do(t, e, http.MethodGet, "/nacos/v1/ns/instance", "serviceName=orders&ip=10.9.0.1&port=8080", nil)
	if code != 200 || !strings.Contains(body, `"service":"DEFAULT_GROUP@@orders"`) {
		t.Fatalf("detail: %d %s", code, body)
	}

	code, body = do(t, e, http.MethodGet, "/nacos/v1/ns/service/list", "pageNo=1&pageSize=10&namespaceId=public&groupName=DEFAULT_GROUP", nil)
	if code != 200 || body != `{"count":1,"doms":["orders"]}` {
		t.Fatalf("service list: %d %s", code, body)
	}
	if code, _ := do(t, e, http.MethodGet, "/nacos/v1/ns/operator/metrics", "", nil); code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	if body := strings.TrimSpace(mustDo(t, e, http.MethodDelete, "/nacos/v1/ns/instance", "serviceName=DEFAULT_GROUP%40%40orders&ip=10.9.0.1&port=8080&clusterName=DEFAULT&ephemeral=true")); body != "ok" {
		t.Fatalf("deregister: %q", body)
	}
	if n := len(listService(t, e.store, "orders")); n != 1 {
		t.Fatalf("%d instances after deregister, want 1", n)
	}
}

func mustDo(t testing.TB, e *env, method, path, form string) string {
	t.Helper()
	code, body := do(t, e, method, path, form, nil)
	if code != 200 {
		t.Fatalf("%s %s: %d %s", method, path, code, body)
	}
	return body
}

func TestHTTPBadInputChangesNothing(t *testing.T) {
	e := startEnv(t, testOptions())
	rev := e.store.Revision()
	cases := []struct {
		name, method, path, form string
		want                     int
		wantBody                 string
	}{
		{"missing serviceName", "POST", "/nacos/v1/ns/instance", "ip=1.2.3.4&port=80", 400, "caused: Param 'serviceName' is required.;"},
		{"missing ip", "POST", "/nacos/v1/ns/instance", "serviceName=a&port=80", 400, "caused: Param 'ip' is required.;"},
		{"bad port", "POST", "/nacos/v1/ns/instance", "serviceName=a&ip=1.2.3.4&port=x", 400, ""},
		{"bad weight", "POST", "/nacos/v1/ns/instance", "serviceName=a&ip=1.2.3.4&port=80&weight=100000", 400, ""},
		{"bad metadata", "POST", "/nacos/v1/ns/instance", "serviceName=a&ip=1.2.3.4&port=80&metadata=%7Bnope", 400, ""},
		{"bad cluster", "POST", "/nacos/v1/ns/instance", "serviceName=a&ip=1.2.3.4&port=80&clusterName=a%20b", 400, ""},
		{"bad grouped name", "POST", "/nacos/v1/ns/instance", "serviceName=%40%40a&ip=1.2.3.4&port=80", 400, ""},
		{"update of unknown service", "PUT", "/nacos/v1/ns/instance", "serviceName=a&ip=1.2.3.4&port=80", 400, ""},
		{"service list without paging", "GET", "/nacos/v1/ns/service/list", "", 400, ""},
		{"bad dataId", "POST", "/nacos/v1/cs/configs", "dataId=a%2Fb&group=G&content=x", 400, ""},
		{"empty content", "POST", "/nacos/v1/cs/configs", "dataId=a&group=G&content=", 400, ""},
		{"missing config", "GET", "/nacos/v1/cs/configs", "dataId=a&group=G", 404, "config data not exist\n"},
		{"bad listening configs", "POST", "/nacos/v1/cs/configs/listener", "Listening-Configs=garbage", 400, ""},
		{"wrong method", "PATCH", "/nacos/v1/ns/instance", "", 405, ""},
		{"unknown path", "GET", "/nacos/v1/ns/nothing", "", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, e, tc.method, tc.path, tc.form, nil)
			if code != tc.want || (tc.wantBody != "" && body != tc.wantBody) {
				t.Fatalf("got %d %q, want %d %q", code, body, tc.want, tc.wantBody)
			}
		})
	}
	big := "serviceName=a&ip=1.2.3.4&port=80&metadata=" + strings.Repeat("x", 11<<20)
	if code, _ := do(t, e, "POST", "/nacos/v1/ns/instance", big, nil); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d, want 413", code)
	}
	if got := e.store.Revision(); got != rev {
		t.Fatalf("bad input changed the store: revision %d -> %d", rev, got)
	}
}

func TestHTTPEphemeralInstanceUnhealthyThenRemovedWithoutBeats(t *testing.T) {
	o := testOptions()
	o.HTTP.BeatTimeout = 300 * time.Millisecond
	o.HTTP.DeleteTimeout = 2 * time.Second
	e := startEnv(t, o)
	postForm(t, e, "/nacos/v1/ns/instance", "serviceName=beating&ip=10.8.0.1&port=80")
	postForm(t, e, "/nacos/v1/ns/instance", "serviceName=beating&ip=10.8.0.2&port=80&ephemeral=false")
	healthyOf := func(ip string) (bool, bool) {
		for _, inst := range listService(t, e.store, "beating") {
			if inst.Host == ip {
				return naming.Healthy(inst), true
			}
		}
		return false, false
	}
	poll.Until(t, "unhealthy after the beat timeout", func() bool { h, ok := healthyOf("10.8.0.1"); return ok && !h }, poll.Within(2*time.Second))
	// A beat brings it back.
	do(t, e, http.MethodPut, "/nacos/v1/ns/instance/beat", "serviceName=beating&ip=10.8.0.1&port=80", nil)
	if h, _ := healthyOf("10.8.0.1"); !h {
		t.Fatal("beat did not make the instance healthy again")
	}
	poll.Until(t, "removed after the delete timeout", func() bool { _, ok := healthyOf("10.8.0.1"); return !ok }, poll.Within(5*time.Second))
	if h, ok := healthyOf("10.8.0.2"); !ok || !h {
		t.Fatal("persistent instance must not expire")
	}
}

func TestHTTPConfigAndLongPoll(t *testing.T) {
	e := startEnv(t, testOptions())
	if body := postForm(t, e, "/nacos/v1/cs/configs", "dataId=app.properties&group=DEFAULT_GROUP&content=k%3Dv1"); body != "true" {
		t.Fatalf("publish: %q", body)
	}
	code, body := do(t, e, http.MethodGet, "/nacos/v1/cs/configs", "dataId=app.properties&group=DEFAULT_GROUP&tenant=", nil)
	if code != 200 || body != "k=v1" {
		t.Fatalf("get: %d %q", code, body)
	}
	oldMD5 := configMD5("k=v1")
	listen := url.Values{"Listening-Configs": {"app.properties\x02DEFAULT_GROUP\x02" + oldMD5 + "\x01"}}.Encode()
	// Up to date: the poll is held until the change below.
	done := make(chan string, 1)
	start := time.Now()
	go func() {
		_, b := do(t, e, http.MethodPost, "/nacos/v1/cs/configs/listener", listen, map[string]string{"Long-Pulling-Timeout": "5000"})
		done <- b
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case b := <-done:
		t.Fatalf("long poll answered before any change: %q", b)
	default:
	}
	postForm(t, e, "/nacos/v1/cs/configs", "dataId=app.properties&group=DEFAULT_GROUP&content=k%3Dv2")
	select {
	case b := <-done:
		if b != url.QueryEscape("app.properties\x02DEFAULT_GROUP\x01") {
			t.Fatalf("long poll answer %q", b)
		}
		if time.Since(start) > 3*time.Second {
			t.Fatal("long poll answered late")
		}
	case <-time.After(4 * time.Second):
		t.Fatal("long poll not answered after the change")
	}
	// Stale md5: answered at once.
	_, b := do(t, e, http.MethodPost, "/nacos/v1/cs/configs/listener", listen, map[string]string{"Long-Pulling-Timeout": "30000"})
	if b == "" {
		t.Fatal("stale md5 not reported")
	}
	if body := mustDo(t, e, http.MethodDelete, "/nacos/v1/cs/configs", "dataId=app.properties&group=DEFAULT_GROUP"); body != "true" {
		t.Fatalf("delete: %q", body)
	}
}

func TestHTTPAuth(t *testing.T) {
	o := testOptions()
	o.Auth.Enabled = true
	o.Auth.Secret = "0123456789abcdef0123456789abcdef"
	o.Auth.Users = map[string]string{"nacos": "s3cret"}
	o.Auth.TokenTTL = 1 * time.Second
	e := startEnv(t, o)

	code, body := do(t, e, http.MethodPost, "/nacos/v1/auth/users/login", "username=nacos&password=wrong", nil)
	if code != http.StatusForbidden {
		t.Fatalf("bad password: %d %s", code, body)
	}
	code, body = do(t, e, http.MethodPost, "/nacos/v1/auth/users/login", "username=nacos&password=s3cret", nil)
	var login struct {
		AccessToken string  `json:"accessToken"`
		TokenTTL    float64 `json:"tokenTtl"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &login) != nil || login.AccessToken == "" || login.TokenTTL != 1 {
		t.Fatalf("login: %d %s", code, body)
	}
	rev := e.store.Revision()
	register := "serviceName=guarded&ip=10.7.0.1&port=80"
	denied := []struct {
		name   string
		form   string
		header map[string]string
	}{
		{"no token", register, nil},
		{"server user agent", register, map[string]string{"User-Agent": "Nacos-Server"}},
		{"identity header", register, map[string]string{"serverIdentity": "security"}},
		{"forged token", register + "&accessToken=e30.forged", nil},
		{"token of another secret", register + "&accessToken=" + strings.Replace(login.AccessToken, ".", ".x", 1), nil},
	}
	for _, tc := range denied {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := do(t, e, http.MethodPost, "/nacos/v1/ns/instance", tc.form, tc.header); code != http.StatusForbidden {
				t.Fatalf("got %d %s, want 403", code, body)
			}
		})
	}
	if e.store.Revision() != rev {
		t.Fatal("denied calls changed the store")
	}
	for _, h := range []map[string]string{nil, {"accessToken": login.AccessToken}, {"Authorization": "Bearer " + login.AccessToken}} {
		form := register
		if h == nil {
			form += "&accessToken=" + url.QueryEscape(login.AccessToken)
		}
		if code, body := do(t, e, http.MethodPost, "/nacos/v1/ns/instance", form, h); code != 200 {
			t.Fatalf("with token (%v): %d %s", h, code, body)
		}
	}
	poll.Until(t, "token expiry", func() bool {
		code, body := do(t, e, http.MethodGet, "/nacos/v1/ns/instance/list", "serviceName=guarded&accessToken="+url.QueryEscape(login.AccessToken), nil)
		return code == http.StatusForbidden && strings.Contains(body, "token expired!")
	}, poll.Within(3*time.Second))
}

func TestCrossProtocolInstancesVisibleInHTTP(t *testing.T) {
	e := startEnv(t, testOptions())
	_, err := e.store.Register(context.Background(), &registry.Instance{
		ID: "billing-1", Service: "BILLING", Host: "10.6.0.1", SecurePort: 8443, SecureEnabled: true,
		Origin: registry.OriginEureka, Metadata: map[string]string{"zone": "eu"}, OverriddenStatus: registry.StatusOutOfService,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, body := do(t, e, http.MethodGet, "/nacos/v1/ns/instance/list", "serviceName=billing", nil)
	var info naming.ServiceInfo
	json.Unmarshal([]byte(body), &info)
	if len(info.Hosts) != 1 {
		t.Fatalf("eureka instance not listed: %s", body)
	}
	h := info.Hosts[0]
	if h.Port != 8443 || h.Metadata["secure"] != "true" || h.Healthy || h.InstanceID != "billing-1" {
		t.Fatalf("mapping of a Eureka instance: %+v", h)
	}
	_, body = do(t, e, http.MethodGet, "/nacos/v1/ns/instance/list", "serviceName=billing&healthyOnly=true", nil)
	if strings.Contains(body, "10.6.0.1") {
		t.Fatalf("OUT_OF_SERVICE instance listed with healthyOnly: %s", body)
	}
	// Weight 0 is kept for Nacos and means no traffic for the mesh.
	postForm(t, e, "/nacos/v1/ns/instance", "serviceName=drain&ip=10.6.0.2&port=80&weight=0")
	insts := listService(t, e.store, "drain")
	if len(insts) != 1 || !insts[0].Disabled || insts[0].Healthy() {
		t.Fatalf("zero-weight instance should be disabled for traffic: %+v", insts)
	}
	_, body = do(t, e, http.MethodGet, "/nacos/v1/ns/instance/list", "serviceName=drain", nil)
	if !strings.Contains(body, `"weight":0`) || !strings.Contains(body, `"enabled":true`) {
		t.Fatalf("zero-weight instance as Nacos shows it: %s", body)
	}
}
