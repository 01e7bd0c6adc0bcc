package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MinSecretBytes is the shortest signing secret accepted (HS256 wants 32).
const MinSecretBytes = 32

// DefaultTokenTTL is Nacos's default token lifetime (18000 s).
const DefaultTokenTTL = 5 * time.Hour

// Errors of Verify and Login; their texts are the ones Nacos answers with.
var (
	ErrNoToken      = errors.New("user not found!")
	ErrTokenExpired = errors.New("token expired!")
	ErrTokenInvalid = errors.New("token invalid!")
	ErrLogin        = errors.New("unknown user!")
)

// Options configure auth. The zero value means auth is off.
type Options struct {
	// Enabled turns auth on: every call but login needs a valid token.
	Enabled bool
	// Secret signs tokens; required (at least MinSecretBytes bytes) when enabled.
	Secret string
	// TokenTTL is a token's lifetime (default 5h, Nacos's 18000 s).
	TokenTTL time.Duration
	// Users maps user names to passwords.
	Users map[string]string
}

// Validate names the first wrong field.
func (o *Options) Validate() error {
	if !o.Enabled {
		return nil
	}
	switch {
	case len(o.Secret) < MinSecretBytes:
		return fmt.Errorf("auth.secret: required when auth is enabled, at least %d bytes (there is no default)", MinSecretBytes)
	case len(o.Users) == 0:
		return errors.New("auth.users: at least one user is required when auth is enabled")
	case o.TokenTTL < 0:
		return errors.New("auth.tokenTTL: must not be negative")
	}
	return nil
}

// Authenticator logs users in and checks tokens.
type Authenticator struct {
	opts Options
	now  func() time.Time
}

// New returns an authenticator; it refuses to enable auth without a secret.
func New(opts Options) (*Authenticator, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("nacos auth: %w", err)
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	return &Authenticator{opts: opts, now: time.Now}, nil
}

// Enabled reports whether calls need a token.
func (a *Authenticator) Enabled() bool { return a != nil && a.opts.Enabled }

// TTL is the lifetime of new tokens.
func (a *Authenticator) TTL() time.Duration { return a.opts.TokenTTL }

// SetClock replaces the clock (tests of token expiry).
func (a *Authenticator) SetClock(now func() time.Time) { a.now = now }

type claims struct {
	Subject string `json:"sub"`
	Expires int64  `json:"exp"` // unix milliseconds
}

// Login checks a user's password and issues a token.
func (a *Authenticator) Login(user, password string) (string, error) {
	want, ok := a.opts.Users[user]
	// Compare even for unknown users so timing does not reveal names.
	match := subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
	if !ok || !match || user == "" {
		return "", ErrLogin
	}
	body, err := json.Marshal(claims{Subject: user, Expires: a.now().Add(a.opts.TokenTTL).UnixMilli()})
	if err != nil {
		return "", fmt.Errorf("nacos auth: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + a.sign(payload), nil
}

// Verify checks a token and returns its user.
func (a *Authenticator) Verify(token string) (string, error) {
	if token == "" {
		return "", ErrNoToken
	}
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(a.sign(payload))) {
		return "", ErrTokenInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", ErrTokenInvalid
	}
	var c claims
	if err := json.Unmarshal(raw, &c); err != nil || c.Subject == "" {
		return "", ErrTokenInvalid
	}
	if _, known := a.opts.Users[c.Subject]; !known {
		return "", ErrTokenInvalid
	}
	if a.now().UnixMilli() >= c.Expires {
		return "", ErrTokenExpired
	}
	return c.Subject, nil
}

func (a *Authenticator) sign(payload string) string {
	m := hmac.New(sha256.New, []byte(a.opts.Secret))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
