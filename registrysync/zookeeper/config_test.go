package zookeeper

import (
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/config/configtest"
	"github.com/meshbridge/meshbridge/registrysync"
)

func TestDefaultsAreValid(t *testing.T) {
	c := NewConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Root != "/services" || c.SessionTimeout != 15*time.Second || c.DownAs != DownAbsent {
		t.Errorf("defaults %+v", c)
	}
}

func TestConfigDecodesOntoDefaults(t *testing.T) {
	c := NewConfig()
	err := config.Decode([]byte("servers: [zk1:2181, zk2:2181]\nroot: /legacy/services\ndownAs: mark\n"), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Servers) != 2 || c.Root != "/legacy/services" || c.DownAs != DownMark || c.SessionTimeout != 15*time.Second {
		t.Errorf("decoded %+v", c)
	}
}

func TestBadConfigsNameTheField(t *testing.T) {
	configtest.RejectsBad(t, func(t *testing.T, path string) error {
		_, err := configtest.Load(path, NewConfig())
		return err
	})
}

func TestRegisteredKind(t *testing.T) {
	k, ok := registrysync.Lookup(Kind)
	if !ok {
		t.Fatal("zookeeper is not a registered connector kind")
	}
	if _, ok := k.NewConfig().(*Config); !ok {
		t.Fatalf("NewConfig gives %T", k.NewConfig())
	}
	if _, err := k.New(k.NewConfig(), registrysync.Env{Name: "zk"}); err == nil {
		t.Error("a connector without the syncer's id was built")
	}
	bad := NewConfig()
	bad.Servers = nil
	if _, err := k.New(bad, registrysync.Env{Name: "zk", Owner: "s"}); err == nil || !strings.Contains(err.Error(), "servers") {
		t.Errorf("an invalid config gave %v", err)
	}
}
