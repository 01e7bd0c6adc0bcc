package sidecar

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"

	"github.com/meshbridge/meshbridge/adapters/consul"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/meshview"
)

// Discovery mode's Consul front-end: adapters/consul (agent, catalog,
// health) over the mesh view. The agent runs the checks the app registers
// with its service, and their results reach the control plane through the
// view.
func init() { meshview.RegisterFrontEnd("consul", newConsulFrontEnd) }

type consulFrontEnd struct {
	srv *consul.Server
	ln  net.Listener
}

func newConsulFrontEnd(store registry.Discovery, namespace string, logger *slog.Logger) (meshview.FrontEnd, error) {
	srv := consul.New(store, consul.Options{Namespace: namespace, NodeAddress: "127.0.0.1",
		Logger: logger.With("component", "sidecar.discovery.consul")})
	return &consulFrontEnd{srv: srv}, nil
}

func (f *consulFrontEnd) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	f.ln = ln
	return nil
}

// Serve runs the store follower and the HTTP API together; blocking
// queries answer at once when the follower stops, so the drain is quick.
func (f *consulFrontEnd) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = f.srv.Run(ctx) }()
	go func() { defer wg.Done(); errs[1] = f.srv.Serve(ctx, f.ln) }()
	wg.Wait()
	return errors.Join(errs...)
}

func (f *consulFrontEnd) Close() error {
	if f.ln != nil {
		return f.ln.Close()
	}
	return nil
}
