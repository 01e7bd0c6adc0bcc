package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/selfregister"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/zookeeper"
)

// newZooKeeperLookup finds callees in ZooKeeper's Spring Cloud Zookeeper
// layout (<root>/<service>/<id>) and follows them with watches, as a
// Curator ServiceCache does, instead of fetching on a timer: a drained
// instance leaves the callers' views as soon as its record changes. It
// reads through registrysync's ZooKeeper source, so the app and the
// syncer read Spring's records alike, and keeps the instances Spring
// Cloud LoadBalancer keeps: instance_status absent or UP. resync is a
// complete listing besides the watches (the source's resync).
func newZooKeeperLookup(connect string, resync time.Duration, log *slog.Logger) (*lookup, error) {
	servers, err := selfregister.ZooKeeperServers(connect)
	if err != nil {
		return nil, err
	}
	cfg := zookeeper.NewConfig()
	cfg.Servers, cfg.Root, cfg.Resync = servers, selfregister.ZooKeeperRoot, resync
	log = log.With("component", "demoapp.lookup")
	// The owner names no syncer: this reader writes nothing.
	src, err := zookeeper.New(cfg, registrysync.Env{Name: "zookeeper", Owner: "demoapp", Logger: log})
	if err != nil {
		return nil, err
	}
	return &lookup{log: log, follow: func(ctx context.Context, set func(map[string][]string)) {
		defer src.Close(context.Background(), false) // a source holds no copies to keep or remove
		followSource(ctx, src, set, log)
	}}, nil
}

// followSource runs src and hands set the selectable instances of every
// service after each update: a complete listing replaces the view, any
// other update the services it names (an empty group is a service gone).
func followSource(ctx context.Context, src registrysync.Source, set func(map[string][]string), log *slog.Logger) {
	updates := make(chan registrysync.Update)
	go func() {
		// Run retries while ZooKeeper is away; it fails only on a
		// connect string the client refuses, which Validate checked.
		if err := src.Run(ctx, updates); err != nil {
			log.Error("the ZooKeeper lookup stopped", "error", err)
		}
	}()
	view := map[string][]string{}
	for {
		var u registrysync.Update
		select {
		case <-ctx.Done():
			return
		case u = <-updates:
		}
		if u.Complete {
			view = map[string][]string{}
		}
		for _, g := range u.Groups {
			var addrs []string
			for _, in := range g.Instances {
				if in.Healthy() {
					addrs = append(addrs, in.Address())
				}
			}
			if svc := strings.ToLower(g.Key.Service); len(addrs) > 0 {
				view[svc] = addrs
			} else {
				delete(view, svc)
			}
		}
		set(maps.Clone(view))
	}
}

// zookeeperConnect checks --registry-url for --registry zookeeper.
func zookeeperConnect(connect string) error {
	_, err := selfregister.ZooKeeperServers(connect)
	if err != nil {
		return fmt.Errorf("--registry-url: %w", err)
	}
	return nil
}
