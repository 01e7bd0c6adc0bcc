package sidecar

import (
	"fmt"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/config"
	"github.com/meshbridge/meshbridge/sidecar/handlers/transport"
)

// buildChain builds one direction's handlers in order and compiles them
// per target service (chain.Plan), so handlers with nothing to do for a
// service are not in its chain. The transport handler is shared by both directions (one set of
// connection pools) and handed to the others as deps.Send.
func buildChain(names []string, cfg *config.Config, deps chain.Deps, tr *transport.Handler) (*chain.Plan, []chain.Handler, error) {
	var hs []chain.Handler
	for _, n := range names {
		if n == transport.Name {
			hs = append(hs, tr)
			continue
		}
		k, ok := chain.Lookup(n)
		if !ok {
			return nil, hs, fmt.Errorf("sidecar: unknown handler %q", n)
		}
		h, err := k.New(cfg.Handlers[n], deps)
		if err != nil {
			return nil, hs, fmt.Errorf("sidecar: %s handler %s: %w", deps.Direction, n, err)
		}
		hs = append(hs, h)
	}
	return chain.NewPlan(hs, nil), hs, nil
}
