package main

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxTokenBytes bounds the work one request can cause.
const maxTokenBytes = 8 << 10

// verifier checks compact JWS tokens signed with one algorithm, with the
// standard library only: HS256 (HMAC-SHA256 with a shared secret) or RS256
// (RSA PKCS#1 v1.5 with SHA-256 and a public key).
type verifier struct {
	alg       string // "HS256" or "RS256"
	secret    []byte
	publicKey *rsa.PublicKey
	issuer    string // required "iss" when set
	audience  string // required among "aud" when set
	leeway    time.Duration
	// requireExp refuses tokens without an expiry.
	requireExp bool
	now        func() time.Time
}

// claims are the registered claims the verifier checks, plus the subject
// it passes on.
type claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	ExpiresAt *numeric `json:"exp"`
	NotBefore *numeric `json:"nbf"`
	IssuedAt  *numeric `json:"iat"`
}

// numeric is a JWT NumericDate: seconds since the epoch, possibly fractional.
type numeric float64

func (n numeric) time() time.Time {
	sec := float64(n)
	return time.Unix(int64(sec), int64((sec-float64(int64(sec)))*1e9))
}

// audience accepts "aud" as a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = many
	return nil
}

// verify checks the token's signature and claims and returns the claims.
func (v *verifier) verify(token string) (*claims, error) {
	if len(token) > maxTokenBytes {
		return nil, fmt.Errorf("token longer than %d bytes", maxTokenBytes)
	}
	headerB64, rest, ok1 := strings.Cut(token, ".")
	payloadB64, sigB64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sigB64, ".") {
		return nil, errors.New("malformed token: want header.payload.signature")
	}
	var header struct {
		Alg  string   `json:"alg"`
		Crit []string `json:"crit"`
	}
	if err := decodeSegment(headerB64, &header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	// The algorithm is the configured one, never the token's choice:
	// this is what stops "alg: none" and HS256-with-the-public-key tricks.
	if header.Alg != v.alg {
		return nil, fmt.Errorf("algorithm %q not accepted (want %s)", header.Alg, v.alg)
	}
	if len(header.Crit) > 0 {
		return nil, fmt.Errorf("unsupported critical header parameters %v", header.Crit)
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigB64)
	if err != nil {
		return nil, errors.New("signature: not base64url")
	}
	if err := v.checkSignature(headerB64+"."+payloadB64, sig); err != nil {
		return nil, err
	}
	var c claims
	if err := decodeSegment(payloadB64, &c); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	return &c, v.checkClaims(&c)
}

func (v *verifier) checkSignature(signingInput string, sig []byte) error {
	switch v.alg {
	case "HS256":
		mac := hmac.New(sha256.New, v.secret)
		mac.Write([]byte(signingInput))
		if !hmac.Equal(sig, mac.Sum(nil)) {
			return errors.New("signature does not match")
		}
	case "RS256":
		sum := sha256.Sum256([]byte(signingInput))
		if err := rsa.VerifyPKCS1v15(v.publicKey, crypto.SHA256, sum[:], sig); err != nil {
			return errors.New("signature does not match")
		}
	default:
		return fmt.Errorf("algorithm %q not supported", v.alg)
	}
	return nil
}

func (v *verifier) checkClaims(c *claims) error {
	now := v.now()
	switch {
	case c.ExpiresAt == nil && v.requireExp:
		return errors.New("token has no expiry (exp)")
	case c.ExpiresAt != nil && !now.Before(c.ExpiresAt.time().Add(v.leeway)):
		return errors.New("token expired")
	case c.NotBefore != nil && now.Add(v.leeway).Before(c.NotBefore.time()):
		return errors.New("token not valid yet (nbf)")
	case v.issuer != "" && c.Issuer != v.issuer:
		return fmt.Errorf("issuer %q not accepted", c.Issuer)
	case v.audience != "" && !slices.Contains(c.Audience, v.audience):
		return fmt.Errorf("audience %v does not include %q", []string(c.Audience), v.audience)
	}
	return nil
}

func decodeSegment(seg string, into any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("not base64url")
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	return nil
}
