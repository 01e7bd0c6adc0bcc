package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/meshbridge/meshbridge/adapters/nacos"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/meshview"
)

// Discovery mode's Nacos front-end: adapters/nacos over the mesh view, v1
// HTTP on the configured address and v2 gRPC on its port + 1000, as Nacos
// 2.x clients expect.
func init() { meshview.RegisterFrontEnd("nacos", newNacosFrontEnd) }

type nacosFrontEnd struct {
	a              *nacos.Adapter
	httpLn, grpcLn net.Listener
}

func newNacosFrontEnd(store registry.Discovery, _ string, logger *slog.Logger) (meshview.FrontEnd, error) {
	a, err := nacos.New(store, nacos.Options{Logger: logger.With("component", "sidecar.discovery.nacos")})
	if err != nil {
		return nil, err
	}
	return &nacosFrontEnd{a: a}, nil
}

func (f *nacosFrontEnd) Listen(addr string) error {
	grpcAddr, err := nacos.GRPCAddr(addr)
	if err != nil {
		return err
	}
	if f.httpLn, err = net.Listen("tcp", addr); err != nil {
		return fmt.Errorf("nacos HTTP: %w", err)
	}
	if f.grpcLn, err = net.Listen("tcp", grpcAddr); err != nil {
		_ = f.httpLn.Close() // half-bound: give it back
		return fmt.Errorf("nacos gRPC on %s: %w", grpcAddr, err)
	}
	return nil
}

func (f *nacosFrontEnd) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = f.a.ServeHTTP(ctx, f.httpLn) }()
	go func() { defer wg.Done(); errs[1] = f.a.ServeGRPC(ctx, f.grpcLn) }()
	wg.Wait()
	return errors.Join(errors.Join(errs...), f.a.Close())
}

func (f *nacosFrontEnd) Close() error {
	var errs []error
	for _, ln := range []net.Listener{f.httpLn, f.grpcLn} {
		if ln != nil {
			errs = append(errs, ln.Close())
		}
	}
	return errors.Join(append(errs, f.a.Close())...)
}
