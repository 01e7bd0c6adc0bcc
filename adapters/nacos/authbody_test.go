package nacos_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// countingBody is a request body that counts what the server reads of it.
type countingBody struct {
	r    io.Reader
	read *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read.Add(int64(n))
	return n, err
}

func (countingBody) Close() error { return nil }

type repeated byte

func (r repeated) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// form is prefix, then pad bytes of filler, then suffix.
func form(prefix string, pad int64, suffix string) io.Reader {
	return io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeated('a'), pad), strings.NewReader(suffix))
}

// With auth on, the token is checked before the body is read when the
// query string or a header carries it, and at most MaxPreAuthBodyBytes are
// read to find it in a form body; large unauthenticated bodies are refused
// without being read. Calls with a valid token still work wherever the
// token is.
func TestHTTPAuthBeforeBody(t *testing.T) {
	const preAuth = 64 << 10
	o := testOptions()
	o.Auth.Enabled = true
	o.Auth.Secret = "0123456789abcdef0123456789abcdef"
	o.Auth.Users = map[string]string{"nacos": "s3cret"}
	o.HTTP.MaxPreAuthBodyBytes = preAuth
	e := startEnv(t, o)
	token := login(t, e, "nacos", "s3cret")
	register := "serviceName=guarded&ip=10.7.0.1&port=80&pad="
	cases := []struct {
		name    string
		path    string
		header  map[string]string
		body    io.Reader
		want    int
		maxRead int64 // -1: no bound checked
	}{
		{"forged token in the query, 9 MiB body", "/nacos/v1/ns/instance?accessToken=e30.forged",
			nil, form(register, 9<<20, ""), http.StatusForbidden, 0},
		{"forged Bearer token, 9 MiB body", "/nacos/v1/ns/instance",
			map[string]string{"Authorization": "Bearer e30.forged"}, form(register, 9<<20, ""), http.StatusForbidden, 0},
		{"no token, 9 MiB body", "/nacos/v1/ns/instance",
			nil, form(register, 9<<20, ""), http.StatusForbidden, preAuth + 1},
		{"token past the pre-auth bytes", "/nacos/v1/ns/instance",
			nil, form(register, 2*preAuth, "&accessToken="+url.QueryEscape(token)), http.StatusForbidden, preAuth + 1},
		{"token first in a body larger than the pre-auth bytes (nacos-sdk-go's order)", "/nacos/v1/ns/instance",
			nil, form("accessToken="+url.QueryEscape(token)+"&"+register, 4*preAuth, ""), http.StatusOK, -1},
		{"token in the query, form body", "/nacos/v1/ns/instance?accessToken=" + url.QueryEscape(token),
			nil, form(register, 16, ""), http.StatusOK, -1},
		{"login body larger than the pre-auth bytes", "/nacos/v1/auth/users/login",
			nil, form("username=nacos&password=s3cret&pad=", 2*preAuth, ""), http.StatusRequestEntityTooLarge, preAuth + 1},
	}
	h := e.adapter.HTTPHandler()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rev := e.store.Revision()
			var read atomic.Int64
			req := httptest.NewRequest(http.MethodPost, tc.path, nil)
			req.Body = countingBody{r: tc.body, read: &read}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("answered %d %q, want %d", rec.Code, rec.Body.String(), tc.want)
			}
			if tc.maxRead >= 0 && read.Load() > tc.maxRead {
				t.Fatalf("read %d body bytes before refusing, want at most %d", read.Load(), tc.maxRead)
			}
			if tc.want != http.StatusOK && e.store.Revision() != rev {
				t.Fatal("a refused call changed the store")
			}
		})
	}
}

// login answers a token for the user, as a client logs in.
func login(t *testing.T, e *env, user, pass string) string {
	t.Helper()
	code, body := do(t, e, http.MethodPost, "/nacos/v1/auth/users/login", "username="+user+"&password="+pass, nil)
	var resp struct {
		AccessToken string `json:"accessToken"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &resp) != nil || resp.AccessToken == "" {
		t.Fatalf("login: %d %s", code, body)
	}
	return resp.AccessToken
}

// nacos-sdk-go registers persistent instances over HTTP with the token in
// the form body (and deregisters with it in the query string): both work
// with auth on, with metadata large enough to need more than a small read.
func TestSDKPersistentInstanceWithAuthOverHTTP(t *testing.T) {
	o := testOptions()
	o.Auth.Enabled = true
	o.Auth.Secret = "0123456789abcdef0123456789abcdef"
	o.Auth.Users = map[string]string{"nacos": "s3cret"}
	o.HTTP.MaxPreAuthBodyBytes = 4 << 10
	e := startEnv(t, o)
	sdk := e.namingClient(t, withAuth("nacos", "s3cret")...)
	meta := map[string]string{}
	for i := range 8 {
		meta[fmt.Sprintf("note-%d", i)] = strings.Repeat("n", 4000) // 32 KB in all, each within the registry's 4 KiB
	}
	param := vo.RegisterInstanceParam{Ip: "10.8.0.1", Port: 80, ServiceName: "ledger", Weight: 1, Enable: true, Healthy: true,
		Ephemeral: false, Metadata: meta}
	if ok, err := sdk.RegisterInstance(param); err != nil || !ok {
		t.Fatalf("register: %v %v", ok, err)
	}
	if got := listService(t, e.store, "ledger"); len(got) != 1 || got[0].Ephemeral || len(got[0].Metadata["note-7"]) != 4000 {
		t.Fatalf("stored: %+v", got)
	}
	if ok, err := sdk.DeregisterInstance(vo.DeregisterInstanceParam{Ip: "10.8.0.1", Port: 80, ServiceName: "ledger", Ephemeral: false}); err != nil || !ok {
		t.Fatalf("deregister: %v %v", ok, err)
	}
	if got := listService(t, e.store, "ledger"); len(got) != 0 {
		t.Fatalf("still stored after deregister: %+v", got)
	}
}
