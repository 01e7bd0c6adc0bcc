package eureka

import (
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/config/configtest"
)

// decodeFile decodes a registry entry's keys strictly onto the defaults
// and validates them, as registrysync does.
func decodeFile(t *testing.T, path string) (*Config, error) {
	return configtest.Load(path, NewConfig())
}

func TestBadConfigsNameTheField(t *testing.T) {
	configtest.RejectsBad(t, func(t *testing.T, path string) error {
		_, err := decodeFile(t, path)
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error prints the password: %v", err)
		}
		return err
	})
}

func TestConfigDefaultsAndURLs(t *testing.T) {
	cfg, err := decodeFile(t, "testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PollInterval != 2*time.Second || cfg.RenewalWorkers != 4 {
		t.Errorf("decoded %+v", cfg)
	}
	got := cfg.serviceURLs()
	want := []string{"http://sync:s3cret@eureka-1:8761/eureka", "https://sync:s3cret@eureka-2/eureka"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("service URLs %q, want %q", got, want)
	}
	def := NewConfig()
	def.URLs = []string{"http://eureka:8761/eureka"}
	if err := def.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
	if def.RenewalInterval != 30*time.Second || def.LeaseDuration != 90*time.Second {
		t.Errorf("default lease %v/%v, want Eureka's 30s/90s", def.RenewalInterval, def.LeaseDuration)
	}
}
