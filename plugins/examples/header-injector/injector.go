package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// injector applies the same header changes to every request and response.
type injector struct {
	request  sdk.HeaderChanges
	response sdk.HeaderChanges
}

func (i *injector) HandleRequest(context.Context, *sdk.Request) (*sdk.RequestResult, error) {
	return &sdk.RequestResult{Header: i.request}, nil
}

func (i *injector) HandleResponse(context.Context, *sdk.ResponseInfo) (*sdk.ResponseResult, error) {
	return &sdk.ResponseResult{Header: i.response}, nil
}

// parseHeader splits "Name: value" and checks both parts.
func parseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || !validName(name) || strings.ContainsAny(value, "\r\n\x00") {
		return "", "", fmt.Errorf(`want "Name: value" with a valid header name and value, got %q`, s)
	}
	return http.CanonicalHeaderKey(name), value, nil
}

// validName reports whether s is an HTTP header name (an RFC 9110 token).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}
