package host_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

func TestHeaderInjectorInChain(t *testing.T) {
	h := startHost(t, pluginConfig(t, "inject", "header-injector",
		"-set", "X-Team: payments", "-add", "Via: mesh", "-remove", "X-Debug", "-response-set", "X-Served-By: meshbridge"))
	up := &echo{}
	srv := chainServer(t, mustPlugin(t, h, "inject"), up)

	r := get(t, srv.URL+"/orders", http.Header{"X-Team": {"spoofed"}, "X-Debug": {"1"}, "Via": {"client"}})
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	got := r.echo.Header
	if got.Get("X-Team") != "payments" || len(got.Values("X-Team")) != 1 {
		t.Errorf("X-Team = %q, want only payments", got.Values("X-Team"))
	}
	if v := got.Values("Via"); len(v) != 2 || v[0] != "client" || v[1] != "mesh" {
		t.Errorf("Via = %q, want [client mesh]", v)
	}
	if got.Get("X-Debug") != "" {
		t.Errorf("X-Debug should be removed, got %q", got.Get("X-Debug"))
	}
	if r.header.Get("X-Served-By") != "meshbridge" {
		t.Errorf("response header X-Served-By = %q", r.header.Get("X-Served-By"))
	}
	if up.count() != 1 {
		t.Errorf("upstream called %d times", up.count())
	}
}

func TestCanaryCookieInChain(t *testing.T) {
	h := startHost(t, pluginConfig(t, "canary", "canary-cookie", "-values", "v2", "-strip"))
	srv := chainServer(t, mustPlugin(t, h, "canary"), &echo{})
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"cookie becomes header", http.Header{"Cookie": {"session=abc; canary=v2"}}, "v2"},
		{"unknown value ignored and client header stripped", http.Header{"Cookie": {"canary=v9"}, "X-Canary": {"v9"}}, ""},
		{"no cookie", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, srv.URL+"/", tt.header)
			if r.status != http.StatusOK || r.echo.Header.Get("X-Canary") != tt.want {
				t.Fatalf("status %d, X-Canary %q; want 200, %q", r.status, r.echo.Header.Get("X-Canary"), tt.want)
			}
		})
	}
}

func TestJWTAuthInChain(t *testing.T) {
	secret := "an-hs256-secret-of-at-least-32-bytes!"
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemPath := filepath.Join(t.TempDir(), "jwt.pem")
	if err := os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	hs := pluginConfig(t, "jwt-hs", "jwt-auth", "-alg", "HS256", "-issuer", "https://auth.test")
	hs.Env = map[string]string{"JWT_HS256_SECRET": secret}
	rs := pluginConfig(t, "jwt-rs", "jwt-auth", "-alg", "RS256", "-public-key", pemPath, "-audience", "orders")
	h := startHost(t, hs, rs)

	claims := map[string]any{"sub": "alice", "iss": "https://auth.test", "aud": "orders", "exp": time.Now().Add(time.Hour).Unix()}
	expired := map[string]any{"sub": "alice", "iss": "https://auth.test", "aud": "orders", "exp": time.Now().Add(-time.Hour).Unix()}
	hsSign := func(c map[string]any) string { return signJWT(t, "HS256", c, []byte(secret), nil) }
	rsSign := func(c map[string]any) string { return signJWT(t, "RS256", c, nil, key) }

	for _, tc := range []struct {
		plugin string
		token  string
		status int
	}{
		{"jwt-hs", hsSign(claims), http.StatusOK},
		{"jwt-hs", hsSign(expired), http.StatusUnauthorized},
		{"jwt-hs", rsSign(claims), http.StatusUnauthorized}, // wrong algorithm
		{"jwt-hs", "", http.StatusUnauthorized},
		{"jwt-rs", rsSign(claims), http.StatusOK},
		{"jwt-rs", hsSign(claims), http.StatusUnauthorized},
		{"jwt-rs", rsSign(map[string]any{"sub": "alice", "aud": "billing", "exp": time.Now().Add(time.Hour).Unix()}), http.StatusUnauthorized},
		{"jwt-rs", rsSign(claims)[:40] + "x" + rsSign(claims)[41:], http.StatusUnauthorized},
	} {
		up := &echo{}
		srv := chainServer(t, mustPlugin(t, h, tc.plugin), up)
		header := http.Header{"X-Jwt-Subject": {"mallory"}}
		if tc.token != "" {
			header.Set("Authorization", "Bearer "+tc.token)
		}
		r := get(t, srv.URL+"/orders", header)
		if r.status != tc.status {
			t.Errorf("%s token %.20s...: status %d, want %d (%s)", tc.plugin, tc.token, r.status, tc.status, r.body)
			continue
		}
		if tc.status == http.StatusOK {
			if up.count() != 1 || r.echo.Header.Get("X-Jwt-Subject") != "alice" {
				t.Errorf("%s: upstream calls %d, subject %q; want 1, alice", tc.plugin, up.count(), r.echo.Header.Get("X-Jwt-Subject"))
			}
			continue
		}
		if up.count() != 0 {
			t.Errorf("%s: a refused request reached the upstream", tc.plugin)
		}
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") || !strings.Contains(r.body, `"unauthorized"`) {
			t.Errorf("%s: 401 without a Bearer challenge or JSON error: %v %s", tc.plugin, r.header, r.body)
		}
	}
}

// signJWT is the test's own JWS signer, independent of the plugin's code.
func signJWT(t testing.TB, alg string, claims map[string]any, secret []byte, key *rsa.PrivateKey) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(map[string]string{"alg": alg, "typ": "JWT"}) + "." + enc(claims)
	var sig []byte
	if alg == "HS256" {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	} else {
		sum := sha256.Sum256([]byte(input))
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:]); err != nil {
			t.Fatal(err)
		}
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func openStore(t *testing.T) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(embedded.Options{Dir: t.TempDir(), Expiry: embedded.ExpiryOptions{Disabled: true}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestMetadataTaggerThroughStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := startHost(t, pluginConfig(t, "tagger", "metadata-tagger", "-set", "env=prod", "-default", "team=unknown", "-require", "version"))
	base := openStore(t)
	store, err := host.TransformingStore(base, mustPlugin(t, h, "tagger"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := registry.As[registry.SelfPreservation](store); !ok {
		t.Error("the wrapper hides the embedded store's SelfPreservation")
	}

	in := &registry.Instance{ID: "orders-1", Service: "ORDERS", Host: "10.0.0.1", Port: 8080, Origin: registry.OriginEureka,
		Metadata: map[string]string{"version": "v2", "env": "dev"}}
	got, err := store.Register(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"version": "v2", "env": "prod", "team": "unknown"}
	for k, v := range want {
		if got.Metadata[k] != v {
			t.Errorf("metadata[%s] = %q, want %q (all: %v)", k, got.Metadata[k], v, got.Metadata)
		}
	}
	if got.Labels[registry.LabelVersion] != "v2" {
		t.Errorf("label version = %q, want it derived from metadata", got.Labels[registry.LabelVersion])
	}
	if in.Metadata["env"] != "dev" {
		t.Error("Register changed the caller's instance")
	}
	stored, err := base.Get(ctx, got.Key())
	if err != nil || stored.Metadata["env"] != "prod" {
		t.Fatalf("stored instance: %v, %v", stored, err)
	}

	// Updates that change what a client controls go through the plugin too:
	// a metadata edit is re-tagged, and dropping the required key is refused.
	up, err := store.Update(ctx, got.Key(), func(i *registry.Instance) error {
		i.SetMetadata("env", "dev")
		i.SetMetadata("version", "v3")
		return nil
	})
	if err != nil || up.Metadata["env"] != "prod" || up.Labels[registry.LabelVersion] != "v3" {
		t.Fatalf("metadata update: %v, %v / labels %v; want env re-tagged prod and label version v3", err, up, up.Labels)
	}
	_, err = store.Update(ctx, got.Key(), func(i *registry.Instance) error { delete(i.Metadata, "version"); return nil })
	if !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("update dropping the required key: want a rejection wrapping ErrInvalid, got %v", err)
	}
	if cur, _ := base.Get(ctx, got.Key()); cur.Metadata["version"] != "v3" || cur.Revision != up.Revision {
		t.Fatalf("a rejected update changed the instance: %+v", cur)
	}
	// A change landing between the plugins' preview and the write is not
	// lost: the update starts again from it.
	bumped := false
	up, err = store.Update(ctx, got.Key(), func(i *registry.Instance) error {
		if !bumped {
			bumped = true
			if _, err := base.Update(ctx, got.Key(), func(j *registry.Instance) error { j.SetMetadata("owner", "ops"); return nil }); err != nil {
				return err
			}
		}
		i.SetMetadata("env", "staging")
		return nil
	})
	if err != nil || up.Metadata["owner"] != "ops" || up.Metadata["env"] != "prod" {
		t.Fatalf("update racing another write: %v, metadata %v; want owner kept and env re-tagged", err, up.Metadata)
	}
	// Health changes alone (check results, beats) call no plugin.
	calls := mustPlugin(t, h, "tagger").Stats().OK
	if _, err := store.Update(ctx, got.Key(), func(i *registry.Instance) error { i.Health = registry.HealthCritical; return nil }); err != nil {
		t.Fatal(err)
	}
	if n := mustPlugin(t, h, "tagger").Stats().OK - calls; n != 0 {
		t.Errorf("a health-only update called the plugin %d times", n)
	}

	// Missing the required key: rejected as invalid input, nothing stored.
	_, err = store.Register(ctx, &registry.Instance{ID: "orders-2", Service: "orders", Host: "10.0.0.2", Port: 8080})
	var rejected *host.RejectedError
	if !errors.Is(err, registry.ErrInvalid) || !errors.As(err, &rejected) || rejected.Plugin != "tagger" || !strings.Contains(rejected.Reason, `"version"`) {
		t.Fatalf("want a rejection wrapping ErrInvalid naming the plugin and key, got %v", err)
	}
	if all, _, err := base.List(ctx, registry.Filter{}); err != nil || len(all) != 1 {
		t.Errorf("store holds %d instances after a rejection (%v); want only the first", len(all), err)
	}
	if _, err := base.Get(ctx, registry.NewInstanceKey("", "", "orders", "orders-2")); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("rejected instance is in the store: %v", err)
	}

	// An instance invalid to begin with fails as before, without a plugin call.
	before := mustPlugin(t, h, "tagger").Stats().OK
	if _, err := store.Register(ctx, &registry.Instance{Service: "orders", Host: "h"}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("want ErrInvalid for an instance without id, got %v", err)
	}
	if after := mustPlugin(t, h, "tagger").Stats().OK; after != before {
		t.Errorf("the plugin was called for an invalid instance (%d calls)", after-before)
	}
}
