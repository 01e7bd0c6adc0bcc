package zookeeper

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// The fixtures are records as Spring Cloud Zookeeper writes them (the
// shape `zkCli get /services/<name>/<id>` shows for Spring apps): one
// with instance_status UP, one taken OUT_OF_SERVICE through the
// service-registry endpoint with an SSL port, one from a Spring version
// older than the status key.
func TestSpringRecordsMapToInstances(t *testing.T) {
	tests := []struct {
		file, service, id string
		want              registry.Instance
	}{
		{
			file: "spring-instance.json", service: "orders", id: "0f0a2cbc-4ba3-4ffa-9fcc-4daa8701a320",
			want: registry.Instance{
				Host: "10.1.2.3", Port: 8004, Status: registry.StatusUp, Health: registry.HealthPassing,
				Weight: 1, Zone: "zone-a", Ephemeral: true,
				Metadata:   map[string]string{"version": "v2", "zone": "zone-a"},
				Registered: time.UnixMilli(1620286926493).UTC(),
			},
		},
		{
			file: "spring-instance-ssl-out-of-service.json", service: "payments", id: "5c1d6f0e-2b8a-4f43-9d1e-7a0b3c9e8f21",
			want: registry.Instance{
				Host: "payments-7.internal", Port: 8080, SecurePort: 8443, SecureEnabled: true, Scheme: "https",
				Status: registry.StatusOutOfService, Health: registry.HealthPassing, Weight: 1, Ephemeral: true,
				Metadata:   map[string]string{"canary": "true"},
				Registered: time.UnixMilli(1654331328914).UTC(),
			},
		},
		{
			file: "spring-instance-pre-status.json", service: "stock", id: "efc76371-522d-4d5d-8f56-f8fe4deb7a47",
			want: registry.Instance{
				Host: "stock-host", Port: 8004, Status: registry.StatusUp, Health: registry.HealthPassing,
				Weight: 1, Ephemeral: true, Metadata: map[string]string{},
				Registered: time.UnixMilli(1590232919360).UTC(),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			rec, err := decodeRecord(data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := toInstance(tt.service, tt.id, rec, true)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Service, want.ID = tt.service, tt.id
			assertInstance(t, got, &want)
		})
	}
}

func assertInstance(t *testing.T, got, want *registry.Instance) {
	t.Helper()
	type view struct {
		Service, ID, Host, Scheme, Zone string
		Port, SecurePort                int
		SecureEnabled, Disabled, Eph    bool
		Status                          registry.Status
		Health                          registry.Health
		Weight                          float64
		Registered                      time.Time
	}
	v := func(i *registry.Instance) view {
		return view{i.Service, i.ID, i.Host, i.Scheme, i.Zone, i.Port, i.SecurePort, i.SecureEnabled, i.Disabled, i.Ephemeral,
			i.Status, i.Health, i.Weight, i.Registered}
	}
	if v(got) != v(want) {
		t.Errorf("instance\n got %+v\nwant %+v", v(got), v(want))
	}
	if !maps.Equal(got.Metadata, want.Metadata) {
		t.Errorf("metadata %v, want %v", got.Metadata, want.Metadata)
	}
}

// A copy's record, byte for byte: the golden file is what Spring apps
// read. UPDATE_GOLDEN=1 rewrites it.
func TestCopyRecordGolden(t *testing.T) {
	inst := &registry.Instance{
		Service: "orders", ID: "orders-mesh-1", Host: "10.9.8.7", Port: 8080,
		Status: registry.StatusUp, Health: registry.HealthPassing, Weight: 2.5, Zone: "zone-b",
		Metadata: map[string]string{
			"version": "v3", registrysync.MetaOrigin: "mesh", registrysync.MetaOwner: "syncer-a",
		},
	}
	rec, err := toRecord(inst, time.UnixMilli(1700000000000))
	if err != nil {
		t.Fatal(err)
	}
	got, err := rec.encode()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "copy.golden.json")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
		t.Errorf("record\n got %s\nwant %s", got, want)
	}
}

// What a copy is written with reads back as it was put, for everything
// the record can carry.
func TestCopyRecordRoundTrips(t *testing.T) {
	tests := []struct {
		name string
		in   registry.Instance
		want registry.Instance // Service and ID are filled from in
	}{
		{
			name: "plain",
			in:   registry.Instance{Host: "h", Port: 80, Status: registry.StatusUp, Metadata: map[string]string{"team": "pay"}},
			want: registry.Instance{Host: "h", Port: 80, Status: registry.StatusUp, Health: registry.HealthPassing, Weight: 1,
				Ephemeral: true, Metadata: map[string]string{"team": "pay"}},
		},
		{
			name: "secure port, zone and weight",
			in: registry.Instance{Host: "h", Port: 80, SecurePort: 443, SecureEnabled: true, Zone: "z1", Weight: 3,
				Status: registry.StatusUp},
			want: registry.Instance{Host: "h", Port: 80, SecurePort: 443, SecureEnabled: true, Scheme: "https", Zone: "z1", Weight: 3,
				Status: registry.StatusUp, Health: registry.HealthPassing, Ephemeral: true,
				Metadata: map[string]string{"zone": "z1", "weight": "3"}},
		},
		{
			name: "secure port only",
			in:   registry.Instance{Host: "h", SecurePort: 443, SecureEnabled: true, Status: registry.StatusUp},
			want: registry.Instance{Host: "h", SecurePort: 443, SecureEnabled: true, Scheme: "https", Status: registry.StatusUp,
				Health: registry.HealthPassing, Weight: 1, Ephemeral: true, Metadata: map[string]string{}},
		},
		{
			name: "marked down",
			in:   registry.Instance{Host: "h", Port: 80, Status: registry.StatusDown},
			want: registry.Instance{Host: "h", Port: 80, Status: registry.StatusDown, Health: registry.HealthPassing, Weight: 1,
				Ephemeral: true, Metadata: map[string]string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Service, tt.in.ID = "svc", "svc-1"
			rec, err := toRecord(&tt.in, time.UnixMilli(1))
			if err != nil {
				t.Fatal(err)
			}
			data, err := rec.encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := decodeRecord(data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := toInstance("svc", "svc-1", back, true)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Service, want.ID, want.Registered = "svc", "svc-1", time.UnixMilli(1).UTC()
			assertInstance(t, got, &want)
		})
	}
}

func TestSpringStatusOfACopy(t *testing.T) {
	tests := []struct {
		name string
		in   registry.Instance
		want registry.Status
	}{
		{"up", registry.Instance{Status: registry.StatusUp}, registry.StatusUp},
		{"unset is up", registry.Instance{}, registry.StatusUp},
		{"down", registry.Instance{Status: registry.StatusDown}, registry.StatusDown},
		{"starting", registry.Instance{Status: registry.StatusStarting}, registry.StatusStarting},
		{"override out of service", registry.Instance{Status: registry.StatusUp, OverriddenStatus: registry.StatusOutOfService}, registry.StatusOutOfService},
		{"up but critical", registry.Instance{Status: registry.StatusUp, Health: registry.HealthCritical}, registry.StatusDown},
		{"up but warning", registry.Instance{Status: registry.StatusUp, Health: registry.HealthWarning}, registry.StatusUp},
		{"up but disabled", registry.Instance{Status: registry.StatusUp, Disabled: true}, registry.StatusOutOfService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := springStatus(&tt.in); got != tt.want {
				t.Errorf("instance_status %s, want %s", got, tt.want)
			}
			if sel := selectable(&tt.in); sel != (tt.want == registry.StatusUp) {
				t.Errorf("selectable %v with instance_status %s", sel, tt.want)
			}
		})
	}
}

func TestStatusAsSpringReadsIt(t *testing.T) {
	for in, want := range map[string]registry.Status{
		"": registry.StatusUp, "UP": registry.StatusUp, "up": registry.StatusUp,
		"OUT_OF_SERVICE": registry.StatusOutOfService, "DOWN": registry.StatusDown, "PAUSED": registry.StatusUnknown,
	} {
		if got := parseStatus(in); got != want {
			t.Errorf("instance_status %q read as %s, want %s", in, got, want)
		}
	}
}

// Records the target cannot hold get an error naming what is wrong.
func TestCopiesZooKeeperCannotHold(t *testing.T) {
	ok := registry.Instance{Service: "svc", ID: "svc-1", Host: "h", Port: 80}
	tests := []struct {
		name string
		edit func(*registry.Instance)
		want string
	}{
		{"slash in service", func(i *registry.Instance) { i.Service = "a/b" }, "service name: contains '/'"},
		{"dot-dot id", func(i *registry.Instance) { i.ID = ".." }, `instance id: ".." is not a node name`},
		{"empty id", func(i *registry.Instance) { i.ID = "" }, "instance id: empty"},
		{"long service", func(i *registry.Instance) { i.Service = strings.Repeat("s", 256) }, "service name: longer than 255 bytes"},
		{"control character", func(i *registry.Instance) { i.ID = "a\x01b" }, "instance id: contains U+0001, which ZooKeeper refuses in paths"},
		{"not utf-8", func(i *registry.Instance) { i.ID = "a\xffb" }, "instance id: not UTF-8"},
		{"no host", func(i *registry.Instance) { i.Host = "" }, "no host"},
		{"no port", func(i *registry.Instance) { i.Port = 0 }, "no port"},
		{"secure port not enabled", func(i *registry.Instance) { i.Port, i.SecurePort = 0, 443 }, "no port"},
		{"port out of range", func(i *registry.Instance) { i.Port = 70000 }, "port out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			_, err := toRecord(&in, time.Now())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := toRecord(&ok, time.Now()); err != nil {
		t.Fatalf("a valid copy: %v", err)
	}
}

func TestNodesThatAreNotInstances(t *testing.T) {
	for name, data := range map[string]string{
		"empty":      "",
		"not json":   "hello",
		"no address": `{"name":"a","id":"b","port":1}`,
		"no port":    `{"name":"a","id":"b","address":"h","port":null,"sslPort":null}`,
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := decodeRecord([]byte(data))
			if err == nil {
				_, err = toInstance("a", "b", rec, true)
			}
			if err == nil {
				t.Fatal("read as an instance")
			}
		})
	}
}

// Curator 4+ may write "enabled": false; such an instance is disabled.
func TestCuratorDisabledFlag(t *testing.T) {
	rec, err := decodeRecord([]byte(`{"name":"a","id":"b","address":"h","port":1,"enabled":false}`))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := toInstance("a", "b", rec, true)
	if err != nil {
		t.Fatal(err)
	}
	if !inst.Disabled || inst.Healthy() {
		t.Errorf("enabled=false read as disabled=%v healthy=%v", inst.Disabled, inst.Healthy())
	}
}
