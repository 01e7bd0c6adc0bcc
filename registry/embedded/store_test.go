package embedded

import (
	"log/slog"
	"testing"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/storetest"
)

func openTest(t *testing.T, dir string, mod ...func(*Options)) *Store {
	t.Helper()
	o := Options{Dir: dir, Expiry: ExpiryOptions{Disabled: true}, Logger: slog.New(slog.DiscardHandler)}
	for _, m := range mod {
		m(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store { return openTest(t, t.TempDir()) })
}
