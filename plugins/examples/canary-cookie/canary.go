package main

import (
	"context"
	"net/http"
	"slices"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// canary copies an accepted cookie value into the canary header.
type canary struct {
	cookie  string
	header  string
	allowed []string // empty: any value made of token characters
	strip   bool
}

func (c *canary) HandleRequest(_ context.Context, req *sdk.Request) (*sdk.RequestResult, error) {
	if ck, err := req.Cookie(c.cookie); err == nil && c.accepts(ck.Value) {
		return &sdk.RequestResult{Header: sdk.HeaderChanges{Set: http.Header{c.header: {ck.Value}}}}, nil
	}
	if c.strip && req.Header.Get(c.header) != "" {
		return &sdk.RequestResult{Header: sdk.HeaderChanges{Remove: []string{c.header}}}, nil
	}
	return sdk.Continue(), nil
}

func (c *canary) accepts(v string) bool {
	if len(c.allowed) > 0 {
		return slices.Contains(c.allowed, v)
	}
	if v == "" || len(v) > 64 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
