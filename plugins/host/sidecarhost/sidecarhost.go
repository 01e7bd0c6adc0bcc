package sidecarhost

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/handlers/plugin"
)

// Host is the sidecar's view of a started plugin host.
type Host struct {
	h *host.Host
}

// New adapts h for plugin.SetHost.
func New(h *host.Host) *Host { return &Host{h: h} }

// Handler builds the chain handler that runs the named plugins in order
// (the first sees the request first and the response last). It fails for
// an unknown name or a plugin that is not an HTTP handler.
func (s *Host) Handler(names []string, deps chain.Deps) (chain.Handler, error) {
	ps, err := s.h.Select(names...)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if !p.Info().HTTP() {
			return nil, fmt.Errorf("plugins: %q is not an HTTP handler plugin", p.Name())
		}
	}
	return &Handler{plugins: ps}, nil
}

// Handler runs plugins around the rest of a chain.
type Handler struct {
	plugins []*host.Plugin
}

// Name is the chain slot's name.
func (*Handler) Name() string { return plugin.Name }

// Serve runs the plugins' request phases, the rest of the chain, and their
// response phases. A plugin that answers ends the exchange with its
// answer; one that fails closed ends it with 503 (reason "plugin").
func (h *Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	if b := ex.Body(); b != nil {
		// The body was buffered for retries and the request's own reader
		// is spent: plugins that read the body read the buffer.
		ex.Request.Body = io.NopCloser(bytes.NewReader(b))
	}
	ex.EditHeader() // the plugins change the request's headers in place
	rest := host.Next(func(r *http.Request) (*http.Response, error) {
		ex.Request = r
		return next(ex)
	})
	for i := len(h.plugins) - 1; i >= 0; i-- {
		p, inner := h.plugins[i], rest
		rest = func(r *http.Request) (*http.Response, error) { return host.Do(p, r, inner) }
	}
	resp, err := rest(ex.Request)
	return resp, chainError(ex, err)
}

// chainError gives the plugins' own failures the sidecar's error shape;
// errors from the rest of the chain pass unchanged.
func chainError(ex *chain.Exchange, err error) error {
	var callErr *host.CallError
	var ce *chain.Error
	switch {
	case err == nil || errors.As(err, &ce):
		return err
	case errors.As(err, &callErr):
		return &chain.Error{Status: http.StatusServiceUnavailable, Reason: chain.ReasonPlugin, Err: err}
	case errors.Is(err, host.ErrRequestBody):
		return &chain.Error{Status: http.StatusBadRequest, Reason: chain.ReasonPlugin, Err: err}
	case ex.Context().Err() != nil:
		return &chain.Error{Status: 499, Reason: chain.ReasonCanceled, Err: err}
	default:
		return err
	}
}

var (
	_ plugin.Host   = (*Host)(nil)
	_ chain.Handler = (*Handler)(nil)
)
