package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// openStore opens an embedded store without expiry in dir (a temporary
// directory when empty); cleanup closes it and removes a temporary dir.
func openStore(c config) (*embedded.Store, func(), error) {
	dir, temp := c.dir, false
	if dir == "" {
		d, err := os.MkdirTemp("", "eureka-bench-")
		if err != nil {
			return nil, nil, err
		}
		dir, temp = d, true
	}
	store, err := embedded.Open(embedded.Options{Dir: dir, Expiry: embedded.ExpiryOptions{Disabled: true}})
	if err != nil {
		return nil, nil, err
	}
	return store, func() {
		store.Close()
		if temp {
			os.RemoveAll(dir)
		}
	}, nil
}

// instance is the i-th benchmark instance, shaped like a Spring Boot
// registration (the attributes and metadata the Eureka adapter stores).
func instance(i, apps int) *registry.Instance {
	app := "service-" + strconv.Itoa(i%apps)
	host := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	base := "http://" + host + ":8080/"
	return &registry.Instance{
		ID:        host + ":" + app + ":8080",
		Service:   app,
		Host:      host,
		Port:      8080,
		Ephemeral: true,
		Origin:    registry.OriginEureka,
		Metadata:  map[string]string{"management.port": "8080", "version": "v1", "zone": "zone-" + strconv.Itoa(i%3)},
		Attributes: map[string]string{
			"eureka.ipAddr": host, "eureka.homePageUrl": base, "eureka.statusPageUrl": base + "actuator/info",
			"eureka.healthCheckUrl": base + "actuator/health", "eureka.vipAddress": app, "eureka.secureVipAddress": app,
			"eureka.lastDirtyTimestamp": "1700000000000",
		},
		Lease: registry.Lease{RenewalInterval: 30 * time.Second, Duration: 90 * time.Second},
	}
}

// fill registers n instances through the store, concurrently so the
// write-ahead log commits them in groups.
func fill(ctx context.Context, store registry.Instances, n, apps int) error {
	return parallel(64, n, func(i int) error {
		_, err := store.Register(ctx, instance(i, apps))
		return err
	})
}
