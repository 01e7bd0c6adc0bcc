package main

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
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Unix(1_700_000_000, 0)
)

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// sign builds a compact JWS; it is the test's own signer, independent of
// the verifier's code paths.
func sign(t testing.TB, alg string, header, claims map[string]any) string {
	t.Helper()
	if header == nil {
		header = map[string]any{"alg": alg, "typ": "JWT"}
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	var sig []byte
	switch alg {
	case "HS256":
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "RS256":
		sum := sha256.Sum256([]byte(input))
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, rsaKey(), crypto.SHA256, sum[:]); err != nil {
			t.Fatal(err)
		}
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func hsVerifier() *verifier {
	return &verifier{alg: "HS256", secret: secret, leeway: 30 * time.Second, requireExp: true, now: func() time.Time { return now }}
}

func rsVerifier() *verifier {
	v := hsVerifier()
	v.alg, v.secret, v.publicKey = "RS256", nil, &rsaKey().PublicKey
	return v
}

func TestVerify(t *testing.T) {
	exp := float64(now.Add(time.Hour).Unix())
	ok := map[string]any{"sub": "alice", "exp": exp, "iss": "https://auth", "aud": []string{"orders", "pay"}}
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		v       *verifier
		token   string
		wantErr string
	}{
		{"HS256 valid", hsVerifier(), sign(t, "HS256", nil, ok), ""},
		{"RS256 valid", rsVerifier(), sign(t, "RS256", nil, ok), ""},
		{"alg none refused", hsVerifier(), sign(t, "none", map[string]any{"alg": "none"}, ok), `algorithm "none" not accepted`},
		{"HS256 token on an RS256 verifier", rsVerifier(), sign(t, "HS256", nil, ok), `algorithm "HS256" not accepted`},
		// The classic confusion: an HS256 token whose "secret" is the public key.
		{"public key as HMAC secret", rsVerifier(), func() string {
			m := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
			in := strings.Join(strings.Split(sign(t, "HS256", nil, ok), ".")[:2], ".")
			m.Write([]byte(in))
			return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		}(), "not accepted"},
		{"tampered payload", hsVerifier(), func() string {
			parts := strings.Split(sign(t, "HS256", nil, ok), ".")
			evil, _ := json.Marshal(map[string]any{"sub": "mallory", "exp": exp})
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(evil) + "." + parts[2]
		}(), "signature does not match"},
		{"wrong secret", func() *verifier { v := hsVerifier(); v.secret = []byte(strings.Repeat("x", 32)); return v }(), sign(t, "HS256", nil, ok), "signature does not match"},
		{"expired", hsVerifier(), sign(t, "HS256", nil, map[string]any{"exp": float64(now.Add(-time.Minute).Unix())}), "expired"},
		{"expired within leeway", hsVerifier(), sign(t, "HS256", nil, map[string]any{"exp": float64(now.Add(-10 * time.Second).Unix())}), ""},
		{"not yet valid", hsVerifier(), sign(t, "HS256", nil, map[string]any{"exp": exp, "nbf": float64(now.Add(time.Minute).Unix())}), "not valid yet"},
		{"no exp", hsVerifier(), sign(t, "HS256", nil, map[string]any{"sub": "a"}), "no expiry"},
		{"issuer required", func() *verifier { v := hsVerifier(); v.issuer = "https://other"; return v }(), sign(t, "HS256", nil, ok), "issuer"},
		{"audience in array", func() *verifier { v := hsVerifier(); v.audience = "pay"; return v }(), sign(t, "HS256", nil, ok), ""},
		{"audience as string", func() *verifier { v := hsVerifier(); v.audience = "pay"; return v }(), sign(t, "HS256", nil, map[string]any{"exp": exp, "aud": "pay"}), ""},
		{"audience missing", func() *verifier { v := hsVerifier(); v.audience = "billing"; return v }(), sign(t, "HS256", nil, ok), "audience"},
		{"critical header", hsVerifier(), sign(t, "HS256", map[string]any{"alg": "HS256", "crit": []string{"b64"}}, ok), "critical"},
		{"two parts", hsVerifier(), "a.b", "malformed"},
		{"four parts", hsVerifier(), "a.b.c.d", "malformed"},
		{"bad base64", hsVerifier(), "!!.b.c", "header"},
		{"too long", hsVerifier(), strings.Repeat("a", maxTokenBytes+1), "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.v.verify(tt.token)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if c == nil {
					t.Fatal("no claims")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestParseRSAPublicKey(t *testing.T) {
	pkix, _ := x509.MarshalPKIXPublicKey(&rsaKey().PublicKey)
	pkcs1 := x509.MarshalPKCS1PublicKey(&rsaKey().PublicKey)
	for _, block := range []*pem.Block{{Type: "PUBLIC KEY", Bytes: pkix}, {Type: "RSA PUBLIC KEY", Bytes: pkcs1}} {
		k, err := parseRSAPublicKey(pem.EncodeToMemory(block))
		if err != nil || !k.Equal(&rsaKey().PublicKey) {
			t.Errorf("%s: %v", block.Type, err)
		}
	}
	if _, err := parseRSAPublicKey([]byte("not pem")); err == nil {
		t.Error("want an error for non-PEM input")
	}
}

func TestAuthOverGRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := sdk.TestClient(t, sdk.ServeConfig{Request: &auth{v: hsVerifier(), subjectHeader: "X-Jwt-Subject"}})
	good := sign(t, "HS256", nil, map[string]any{"sub": "alice", "exp": float64(now.Add(time.Hour).Unix())})

	res, err := c.HandleRequest(ctx, &sdk.Request{Header: http.Header{"Authorization": {"Bearer " + good}, "X-Jwt-Subject": {"mallory"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Response != nil || res.Header.Set.Get("X-Jwt-Subject") != "alice" || res.Header.Remove[0] != "X-Jwt-Subject" {
		t.Fatalf("valid token: want subject header set and the client's removed, got %+v", res)
	}

	for name, authz := range map[string]string{"missing": "", "basic": "Basic YTpi", "bad": "Bearer x.y.z"} {
		res, err := c.HandleRequest(ctx, &sdk.Request{Header: http.Header{"Authorization": {authz}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Response == nil || res.Response.Status != http.StatusUnauthorized {
			t.Fatalf("%s: want 401, got %+v", name, res)
		}
		challenge := res.Response.Header.Get("WWW-Authenticate")
		if !strings.HasPrefix(challenge, "Bearer") || (name == "bad") != strings.Contains(challenge, "invalid_token") {
			t.Fatalf("%s: unexpected challenge %q", name, challenge)
		}
		if !strings.Contains(string(res.Response.Body), `"code":"unauthorized"`) {
			t.Fatalf("%s: unexpected body %s", name, res.Response.Body)
		}
	}
}

// FuzzVerify feeds arbitrary tokens to both verifiers: they must never
// panic, and whatever they accept has the three-part form.
func FuzzVerify(f *testing.F) {
	f.Add(sign(f, "HS256", nil, map[string]any{"exp": 1e12}))
	f.Add(sign(f, "RS256", nil, map[string]any{"exp": 1e12}))
	f.Add("e30.e30.")
	f.Add("..")
	hs, rs := hsVerifier(), rsVerifier()
	f.Fuzz(func(t *testing.T, token string) {
		for _, v := range []*verifier{hs, rs} {
			if _, err := v.verify(token); err == nil {
				parts := strings.Split(token, ".")
				if len(parts) != 3 {
					t.Fatalf("accepted a malformed token %q", token)
				}
			}
		}
	})
}
