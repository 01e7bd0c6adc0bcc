package v1

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/nacos/auth"
)

type handlerFunc func(w http.ResponseWriter, r *http.Request, p *params) error

// secured refuses calls without a valid token with 403 when auth is on,
// as Nacos's AuthFilter does, then reads the parameters. Only the token
// counts: no User-Agent ("Nacos-Server") or other header lets a call past.
func (s *Server) secured(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Auth.Enabled() {
			if err := s.authenticate(r); err != nil {
				s.fail(w, err)
				return
			}
		}
		p, err := readParams(r)
		if err != nil {
			s.fail(w, err)
			return
		}
		if err := h(w, r, p); err != nil {
			s.fail(w, err)
		}
	}
}

// authenticate verifies the request's access token, reading as little of
// its body as it can: a token in the query string or a header is checked
// before any body byte is read. Clients that send the token as a form
// field (nacos-sdk-go's POSTs and PUTs, the Java 1.x config client) have
// at most MaxPreAuthBodyBytes read to find it.
func (s *Server) authenticate(r *http.Request) error {
	tok := token(r)
	if tok == "" && hasForm(r) {
		var err error
		if tok, err = s.formToken(r); err != nil {
			return err
		}
	}
	if _, err := s.opts.Auth.Verify(tok); err != nil {
		return &httpError{status: http.StatusForbidden, msg: err.Error()}
	}
	return nil
}

// token finds the access token where Nacos clients put it outside the
// body: the accessToken query parameter, an accessToken header, or a
// Bearer authorization.
func token(r *http.Request) string {
	if t := r.URL.Query().Get("accessToken"); t != "" {
		return t
	}
	if t := r.Header.Get("accessToken"); t != "" {
		return t
	}
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// formToken looks for the accessToken field in the first
// MaxPreAuthBodyBytes of a form body, and puts what it read back in front
// of the rest of the body for readParams. When the body goes on past that
// prefix, a field cut off at its end does not count.
func (s *Server) formToken(r *http.Request) (string, error) {
	limit := s.opts.MaxPreAuthBodyBytes + 1 // one byte more tells whether the body goes on
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// One allocation of the size to be read, where growing a buffer
		// as it fills would hold up to twice that per refused request.
		buf.Grow(int(min(r.ContentLength, limit)) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, limit)); err != nil {
		return "", bodyError(err)
	}
	head := buf.Bytes()
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	whole := head
	if int64(len(head)) > s.opts.MaxPreAuthBodyBytes {
		whole = head[:bytes.LastIndexByte(head, '&')+1]
	}
	return parseLenient(string(whole)).Get("accessToken"), nil
}

type loginResponse struct {
	AccessToken string `json:"accessToken"`
	// TokenTTL is in seconds and must be a number: the Go SDK type-asserts it.
	TokenTTL    int64  `json:"tokenTtl"`
	GlobalAdmin bool   `json:"globalAdmin"`
	Username    string `json:"username"`
}

// login answers POST /nacos/v1/auth/users/login (and /nacos/v1/auth/login).
// With auth off Nacos still answers logins; so do we, with no token.
// A login is unauthenticated by nature, so its body may be no larger than
// MaxPreAuthBodyBytes.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.opts.Auth.Enabled() {
		writeJSON(w, loginResponse{TokenTTL: int64(auth.DefaultTokenTTL.Seconds())})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxPreAuthBodyBytes)
	p, err := readParams(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	user := p.get("username")
	tok, err := s.opts.Auth.Login(user, p.get("password"))
	if err != nil {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		writeJSON(w, map[string]any{"code": http.StatusForbidden, "message": err.Error(), "data": nil})
		return
	}
	writeJSON(w, loginResponse{AccessToken: tok, TokenTTL: int64(s.opts.Auth.TTL().Seconds()), Username: user})
}
