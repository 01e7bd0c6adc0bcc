package registrysync

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/registry"
)

// stubConfig is a registry entry's settings for a kind this test
// registers: the engine's bookkeeping is tested without any connector.
type stubConfig struct{}

func (stubConfig) Validate() error { return nil }

func init() {
	Register(Kind{Name: "follow-test-stub", NewConfig: func() Config { return stubConfig{} },
		New: func(Config, Env) (Connector, error) { return nil, nil }})
}

// An empty complete listing waits until every target is listed (rule 7);
// a change the source sends meanwhile (an app registering just after the
// syncer started) must survive the listing's settling. It was dropped,
// and the app was copied only at the next relisting.
func TestAChangeAfterAnEmptyListingSurvivesItsSettling(t *testing.T) {
	stub := func(name string) RegistryConfig {
		return RegistryConfig{Name: name, Type: "follow-test-stub", Settings: stubConfig{}}
	}
	cfg := SyncConfig{ID: "syncer-1", Registries: []RegistryConfig{stub("a"), stub("m")},
		Pairs: []PairConfig{{From: "a", To: "m"}}, Engine: DefaultEngineConfig()}
	s, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	src := s.sources[0]
	s.apply(src, Update{Complete: true})
	inst := &registry.Instance{Service: "orders", ID: "orders-1", Host: "10.0.0.1", Port: 8080}
	s.apply(src, Update{Groups: []Group{{Key: ServiceKey{Service: "orders"}, Instances: []*registry.Instance{inst}}}})

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.targets {
		t.listed = true
	}
	if err := s.settleEmptyLocked(src, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !src.complete || countKnown(src.groups) != 1 {
		t.Fatalf("after settling: complete %v, %d instances known; want orders-1", src.complete, countKnown(src.groups))
	}
}
