package config_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/config/configtest"
	"github.com/meshbridge/meshbridge/sidecar/config"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/breaker"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/fault"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/headers"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/loadbalance"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/mirror"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/outlier"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/plugin"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/ratelimit"
	"github.com/meshbridge/meshbridge/sidecar/handlers/retry"
	"github.com/meshbridge/meshbridge/sidecar/handlers/router"
	"github.com/meshbridge/meshbridge/sidecar/handlers/timeout"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/transport"
)

func load(path string) (*config.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse(data)
	if err != nil {
		return nil, err
	}
	return cfg, cfg.Validate()
}

// Every testdata/*.bad.yaml is refused with the error its want line names.
func TestBadConfigsRejected(t *testing.T) {
	configtest.RejectsBad(t, func(_ *testing.T, path string) error {
		_, err := load(path)
		return err
	})
}

func TestFullConfigDecodes(t *testing.T) {
	cfg, err := load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Service.Ports[1].Protocol; got != "grpc" {
		t.Errorf("grpc port protocol = %q, want grpc (derived from the name)", got)
	}
	r := cfg.Handlers["retry"].(*retry.Config)
	if r.Attempts != 3 || len(r.RetryOn) != 2 || r.BudgetPercent != 20 {
		t.Errorf("retry config = %+v; want attempts 3, two retryOn, default budget 20", r)
	}
	if d := cfg.Handlers["timeout"].(*timeout.Config).Default; d != 2*time.Second {
		t.Errorf("timeout default = %v, want 2s", d)
	}
	if rc, ok := cfg.Handlers["router"].(*router.Config); !ok || rc.ShadowFallback != "stable" {
		t.Errorf("empty router section must keep defaults, got %+v", cfg.Handlers["router"])
	}
	if cfg.Egress.Listen != "127.0.0.1:15001" || cfg.DrainTimeout != 20*time.Second {
		t.Errorf("defaults lost: egress %q drain %v", cfg.Egress.Listen, cfg.DrainTimeout)
	}
}

// The example config in configs/ must load as it is.
func TestExampleConfigLoads(t *testing.T) {
	if _, err := load("../../configs/sidecar.yaml"); err != nil {
		t.Fatal(err)
	}
}

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in      string
		want    []config.Port
		wantErr bool
	}{
		{in: "rest:8080", want: []config.Port{{Name: "rest", Port: 8080, Protocol: "http"}}},
		{in: "rest:8080,grpc:9090", want: []config.Port{{Name: "rest", Port: 8080, Protocol: "http"}, {Name: "grpc", Port: 9090, Protocol: "grpc"}}},
		{in: "api:8080:h2c", want: []config.Port{{Name: "api", Port: 8080, Protocol: "h2c"}}},
		{in: "rest", wantErr: true},
		{in: "rest:x", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := config.ParsePorts(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePorts(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !equalPorts(got, tt.want) {
			t.Errorf("ParsePorts(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func equalPorts(a, b []config.Port) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// configs/sidecar.yaml documents every default: loading it must give
// exactly config.Default() (with the example's service name).
func TestExampleConfigShowsDefaults(t *testing.T) {
	got, err := load("../../configs/sidecar.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Service.Name = got.Service.Name
	a, b := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	emptyToNil(a)
	emptyToNil(b)
	if !reflect.DeepEqual(got, want) {
		for i := range a.NumField() {
			if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
				t.Errorf("%s: example %+v, default %+v", a.Type().Field(i).Name, a.Field(i).Interface(), b.Field(i).Interface())
			}
		}
		for n, h := range want.Handlers {
			if !reflect.DeepEqual(got.Handlers[n], h) {
				t.Errorf("handlers.%s: example %+v, default %+v", n, got.Handlers[n], h)
			}
		}
	}
	// And every handler has a section in the example.
	for n := range want.Handlers {
		data, _ := os.ReadFile("../../configs/sidecar.yaml")
		if !strings.Contains(string(data), "\n  "+n+":") {
			t.Errorf("configs/sidecar.yaml has no handlers.%s section", n)
		}
	}
}

// emptyToNil turns empty maps and slices into nil, recursively, so "{}" in
// YAML compares equal to an unset default.
func emptyToNil(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			emptyToNil(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				emptyToNil(v.Field(i))
			}
		}
	case reflect.Map:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for _, k := range v.MapKeys() {
			emptyToNil(v.MapIndex(k))
		}
	case reflect.Slice:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := range v.Len() {
			emptyToNil(v.Index(i))
		}
	}
}

// Parse never panics and either fails or yields a config Validate can judge.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "service: {name: a}", "handlers: {retry: {attempts: 3}}", "handlers:\n  retry:\n", "egress: [1,2]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		cfg, err := config.Parse(data)
		if err == nil {
			_ = cfg.Validate()
		}
	})
}

// discovery: has a key per registered front-end beside its fixed keys:
// each is that front-end's address, on its default unless set; "" leaves
// it out.
func TestDiscoveryFrontEndAddresses(t *testing.T) {
	cfg, err := config.Parse([]byte("service: {name: a}\ndiscovery:\n  enabled: true\n  eureka: \"\"\n  consul: 127.0.0.1:18500\n  nacos:\n  firstPort: 16501\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d := cfg.Discovery
	want := map[string]string{"eureka": "", "consul": "127.0.0.1:18500", "nacos": "127.0.0.1:8848"}
	if !reflect.DeepEqual(d.FrontEnds, want) || !d.Enabled || d.FirstPort != 16501 || d.LastPort != 16999 {
		t.Fatalf("discovery = %+v, want front-ends %v, firstPort 16501 and the default lastPort", d, want)
	}
	if _, err := config.Parse([]byte("discovery:\n  consul: [1, 2]\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("a list for an address: %v, want an error naming line 2", err)
	}
}
