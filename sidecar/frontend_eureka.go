package sidecar

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/meshview"
)

// Discovery mode's Eureka front-end: adapters/eureka over the mesh view, so a
// Spring Cloud Netflix app pointed at http://127.0.0.1:<port>/eureka/ registers
// through its sidecar and discovers every service at this sidecar's loopback ports.
func init() { meshview.RegisterFrontEnd("eureka", newEurekaFrontEnd) }

type eurekaFrontEnd struct {
	srv *eureka.Server
	ln  net.Listener
}

func newEurekaFrontEnd(store registry.Discovery, namespace string, logger *slog.Logger) (meshview.FrontEnd, error) {
	srv, err := eureka.New(store, eureka.Options{Namespace: namespace,
		Logger: logger.With("component", "sidecar.discovery.eureka")})
	if err != nil {
		return nil, fmt.Errorf("eureka front-end: %w", err)
	}
	return &eurekaFrontEnd{srv: srv}, nil
}

func (f *eurekaFrontEnd) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	f.ln = ln
	return nil
}

// Serve runs the HTTP API (which runs the view follower too) until ctx ends.
func (f *eurekaFrontEnd) Serve(ctx context.Context) error { return f.srv.Serve(ctx, f.ln) }

func (f *eurekaFrontEnd) Close() error {
	if f.ln != nil {
		return f.ln.Close()
	}
	return nil
}
