package v1

import (
	"net/http"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/nacos/auth"
)

type handlerFunc func(w http.ResponseWriter, r *http.Request, p *params) error

// secured reads the parameters and, when auth is on, refuses calls without
// a valid token with 403, as Nacos's AuthFilter does. Only the token
// counts: no User-Agent ("Nacos-Server") or other header lets a call past.
func (s *Server) secured(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := readParams(r)
		if err != nil {
			s.fail(w, err)
			return
		}
		if s.opts.Auth.Enabled() {
			if _, err := s.opts.Auth.Verify(token(r, p)); err != nil {
				s.fail(w, &httpError{status: http.StatusForbidden, msg: err.Error()})
				return
			}
		}
		if err := h(w, r, p); err != nil {
			s.fail(w, err)
		}
	}
}

// token finds the access token where Nacos clients put it: the
// accessToken parameter (query or form), an accessToken header, or a
// Bearer authorization.
func token(r *http.Request, p *params) string {
	if t := p.get("accessToken"); t != "" {
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

type loginResponse struct {
	AccessToken string `json:"accessToken"`
	// TokenTTL is in seconds and must be a number: the Go SDK type-asserts it.
	TokenTTL    int64  `json:"tokenTtl"`
	GlobalAdmin bool   `json:"globalAdmin"`
	Username    string `json:"username"`
}

// login answers POST /nacos/v1/auth/users/login (and /nacos/v1/auth/login).
// With auth off Nacos still answers logins; so do we, with no token.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	if !s.opts.Auth.Enabled() {
		writeJSON(w, loginResponse{TokenTTL: int64(auth.DefaultTokenTTL.Seconds())})
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
