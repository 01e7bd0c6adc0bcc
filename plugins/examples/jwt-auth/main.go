// Command jwt-auth is a meshbridge plugin that lets a request through only
// with a valid bearer token (HS256 or RS256) and answers 401 otherwise.
//
//	JWT_HS256_SECRET=... jwt-auth -alg HS256 -issuer https://auth.example.com
//	jwt-auth -alg RS256 -public-key /etc/meshbridge/jwt.pem -audience orders
//
// The verified subject goes to the app in X-Jwt-Subject (-subject-header).
package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

func main() {
	alg := flag.String("alg", "HS256", "signature algorithm: HS256 or RS256")
	secretEnv := flag.String("secret-env", "JWT_HS256_SECRET", "environment variable holding the HS256 secret (kept out of the command line)")
	publicKey := flag.String("public-key", "", "PEM file with the RS256 public key")
	issuer := flag.String("issuer", "", "required iss claim (empty: any)")
	aud := flag.String("audience", "", "required aud claim (empty: any)")
	leeway := flag.Duration("leeway", 30*time.Second, "clock skew allowed for exp and nbf")
	requireExp := flag.Bool("require-exp", true, "refuse tokens without exp")
	subject := flag.String("subject-header", "X-Jwt-Subject", "request header that carries the verified sub claim (empty: none)")
	flag.Parse()
	sdk.RequireHost()

	v := &verifier{alg: *alg, issuer: *issuer, audience: *aud, leeway: *leeway, requireExp: *requireExp, now: time.Now}
	if err := v.load(*secretEnv, *publicKey); err != nil {
		fmt.Fprintln(os.Stderr, "jwt-auth:", err)
		os.Exit(2)
	}
	// Verifying only computes (the keys are loaded above, never fetched):
	// calls one at a time save a wake-up each.
	sdk.Serve(sdk.ServeConfig{Request: &auth{v: v, subjectHeader: *subject}, Sequential: true})
}

// load reads the key material for the configured algorithm.
func (v *verifier) load(secretEnv, publicKeyFile string) error {
	switch v.alg {
	case "HS256":
		v.secret = []byte(os.Getenv(secretEnv))
		if len(v.secret) < 32 {
			return fmt.Errorf("HS256 needs a secret of at least 32 bytes in $%s", secretEnv)
		}
	case "RS256":
		if publicKeyFile == "" {
			return errors.New("RS256 needs -public-key")
		}
		b, err := os.ReadFile(publicKeyFile)
		if err != nil {
			return err
		}
		key, err := parseRSAPublicKey(b)
		if err != nil {
			return fmt.Errorf("%s: %w", publicKeyFile, err)
		}
		v.publicKey = key
	default:
		return fmt.Errorf("-alg: want HS256 or RS256, got %q", v.alg)
	}
	return nil
}

// parseRSAPublicKey accepts a PEM "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY"
// (PKCS#1) or "CERTIFICATE".
func parseRSAPublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, err
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA key: %T", key)
	}
	if rsaKey.N.BitLen() < 2048 {
		return nil, fmt.Errorf("RSA key of %d bits is too small (at least 2048)", rsaKey.N.BitLen())
	}
	return rsaKey, nil
}
