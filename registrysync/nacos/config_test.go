package nacos_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	iconfig "github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/nacos"
)

// Each testdata/*.bad.yaml starts with "# want: <text>", the error its
// decoding and validation must give.
func TestBadConfigsAreRefusedWithTheFieldNamed(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bufio.NewReader(bytes.NewReader(data)).ReadLine()
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok {
				t.Fatalf("%s does not start with '# want: '", f)
			}
			cfg := nacos.NewConfig()
			err = iconfig.Decode(data, cfg)
			if err == nil {
				err = cfg.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want an error with %q", err, want)
			}
		})
	}
}

func TestFullConfigDecodesAndKeepsThePasswordOutOfPrint(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := nacos.NewConfig()
	if err := iconfig.Decode(data, cfg); err != nil {
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
