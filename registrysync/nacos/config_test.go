package nacos_test

import (
	"strings"
	"testing"
	"time"

	iconfig "github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/config/configtest"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/nacos"
)

// Each testdata/*.bad.yaml is refused with the error its want line names.
func TestBadConfigsAreRefusedWithTheFieldNamed(t *testing.T) {
	configtest.RejectsBad(t, func(t *testing.T, path string) error {
		_, err := configtest.Load(path, nacos.NewConfig())
		return err
	})
}

func TestFullConfigDecodesAndKeepsThePasswordOutOfPrint(t *testing.T) {
	cfg := nacos.NewConfig()
	if err := iconfig.Load("testdata/full.yaml", cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.ListInterval != 10*time.Second || cfg.PageSize != 1000 || len(cfg.Namespaces) != 2 || cfg.Password != "s3cret" {
		t.Errorf("decoded %+v", *cfg)
	}
	if printed := cfg.String(); strings.Contains(printed, "s3cret") || !strings.Contains(printed, "registrysync") {
		t.Errorf("printed config shows the password or lost the user: %s", printed)
	}
}

func TestDefaultsAndRegistration(t *testing.T) {
	k, ok := registrysync.Lookup("nacos")
	if !ok {
		t.Fatal("the nacos kind is not registered")
	}
	cfg := k.NewConfig().(*nacos.Config)
	if cfg.ListInterval != 5*time.Second || cfg.PageSize != 500 || cfg.Timeout != 10*time.Second ||
		cfg.LogLevel != "warn" || cfg.ContextPath != "/nacos" ||
		len(cfg.Namespaces) != 1 || cfg.Namespaces[0] != "public" || len(cfg.Groups) != 1 || cfg.Groups[0] != "DEFAULT_GROUP" {
		t.Errorf("defaults %+v", *cfg)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "servers") {
		t.Errorf("defaults without servers validated: %v", err)
	}
	if _, err := k.New(cfg, registrysync.Env{Name: "n", Owner: "o"}); err == nil {
		t.Error("New accepted a configuration Validate refuses")
	}
}
