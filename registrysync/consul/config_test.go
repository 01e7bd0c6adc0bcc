package consul

import (
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/config/configtest"
)

func decodeFile(t *testing.T, path string) (*Config, error) {
	return configtest.Load(path, NewConfig())
}

func TestBadConfigsNameTheField(t *testing.T) {
	configtest.RejectsBad(t, func(t *testing.T, path string) error {
		_, err := decodeFile(t, path)
		return err
	})
}

func TestConfigDecodesAndDefaults(t *testing.T) {
	cfg, err := decodeFile(t, "testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DownAs != DownMaintenance || cfg.TTL != 15*time.Second || cfg.renewEvery() != 5*time.Second {
		t.Errorf("decoded %+v", cfg)
	}
	def := NewConfig()
	if err := def.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
	if def.DownAs != DownAbsent || def.Address != "127.0.0.1:8500" || def.Wait != 5*time.Minute {
		t.Errorf("defaults %+v", def)
	}
}

func TestConsulMeta(t *testing.T) {
	got, err := consulMeta(map[string]string{"management.port": "8081", "version": "v2", "label.tier": "gold", "a-b_c": "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"management_port": "8081", "version": "v2", "label_tier": "gold", "a-b_c": "x"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("meta %q = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("meta %v, want %v", got, want)
	}
}
