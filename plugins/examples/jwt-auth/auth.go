package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// auth lets requests with a valid bearer token through and answers 401 to
// the others.
type auth struct {
	v *verifier
	// subjectHeader, when set, carries the token's subject to the app;
	// whatever the client sent under that name is removed first.
	subjectHeader string
}

func (a *auth) HandleRequest(_ context.Context, req *sdk.Request) (*sdk.RequestResult, error) {
	token, ok := bearerToken(req.Header.Get("Authorization"))
	if !ok {
		// RFC 6750 §3.1: no error code when the request had no credentials.
		return deny(`Bearer realm="meshbridge"`, "a bearer token is required"), nil
	}
	c, err := a.v.verify(token)
	if err != nil {
		return deny(fmt.Sprintf(`Bearer realm="meshbridge", error="invalid_token", error_description=%q`, err.Error()),
			"invalid token: "+err.Error()), nil
	}
	if a.subjectHeader == "" {
		return sdk.Continue(), nil
	}
	res := &sdk.RequestResult{Header: sdk.HeaderChanges{Remove: []string{a.subjectHeader}}}
	if c.Subject != "" {
		res.Header.Set = http.Header{http.CanonicalHeaderKey(a.subjectHeader): {c.Subject}}
	}
	return res, nil
}

func bearerToken(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// deny answers 401 in the project's JSON error shape.
func deny(challenge, message string) *sdk.RequestResult {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "unauthorized", "message": message}}) // strings always marshal
	return sdk.Reply(http.StatusUnauthorized, http.Header{
		"Www-Authenticate": {challenge},
		"Content-Type":     {"application/json"},
	}, body)
}
