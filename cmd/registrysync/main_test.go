package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/app/apptest"
	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/plugins/host/plugintest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/mesh"
	"github.com/meshbridge/meshbridge/registrysync/meshtest"
)

// TestMain fails the run if a plugin or syncer process outlives its test.
func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return app.Run(ctx, command, args, stdout, stderr)
}

func TestHelpAndVersion(t *testing.T) {
	apptest.HelpAndVersion(t, command, "registrysync", "-dry-run", `(default ":8710")`)
}

func TestBadConfigIsRejectedWithTheKeyNamed(t *testing.T) { apptest.RejectsBadConfig(t, command) }

func TestShippedConfigLoads(t *testing.T) {
	cfg := DefaultConfig()
	if err := config.Load("../../configs/registrysync.yaml", cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if cfg.Engine != def.Engine || cfg.Admin != def.Admin || cfg.Election != def.Election || cfg.Drain != def.Drain {
		t.Fatalf("the shipped engine, admin, election or drain differ from the defaults they document:\n%+v\n%+v", cfg, def)
	}
	shipped, want := cfg.Registries[0].Settings.(*mesh.Config), mesh.NewConfig()
	if shipped.URL != want.URL || shipped.LeaseDuration != want.LeaseDuration || shipped.RenewInterval != want.RenewInterval ||
		shipped.WatchWait != want.WatchWait || shipped.RetryMaxBackoff != want.RetryMaxBackoff || shipped.RenewConcurrency != want.RenewConcurrency {
		t.Fatalf("the shipped mesh registry differs from the defaults it documents: %+v", shipped)
	}
}

// TestShippedConfigDocumentsEveryType decodes the commented registry
// entries of the shipped file, one per connector type, and checks that
// each key it shows holds that connector's default.
func TestShippedConfigDocumentsEveryType(t *testing.T) {
	data, err := os.ReadFile("../../configs/registrysync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "  # - name:"):
			entries = append(entries, strings.Replace(line, "# ", "", 1))
		case strings.HasPrefix(line, "  #   ") && len(entries) > 0:
			entries[len(entries)-1] += "\n" + strings.Replace(line, "# ", "", 1)
		}
	}
	types := map[string]bool{"mesh": true}
	for _, e := range entries {
		var doc struct {
			Registries []registrysync.RegistryConfig `yaml:"registries"`
		}
		if err := config.Decode([]byte("registries:\n"+e+"\n"), &doc); err != nil {
			t.Fatalf("%v in\n%s", err, e)
		}
		r := doc.Registries[0]
		kind, _ := registrysync.Lookup(r.Type)
		got, want := reflect.ValueOf(r.Settings).Elem(), reflect.ValueOf(kind.NewConfig()).Elem()
		for i := range want.NumField() {
			def := want.Field(i).Interface()
			if path, ok := def.(string); ok && strings.HasPrefix(path, os.TempDir()) {
				def = "/tmp" + strings.TrimPrefix(path, os.TempDir()) // the file shows the usual temp dir
			}
			if !want.Field(i).IsZero() && !reflect.DeepEqual(got.Field(i).Interface(), def) {
				t.Errorf("%s: %s is %v in the file, %v by default", r.Type, want.Type().Field(i).Name, got.Field(i), def)
			}
		}
		types[r.Type] = true
	}
	for _, name := range registrysync.Names() {
		if !types[name] {
			t.Errorf("the shipped file shows no registry of type %s", name)
		}
	}
}

// configTemplate is a syncer between the mesh planes named in it.
var configTemplate = template.Must(template.New("cfg").Parse(`id: {{.ID}}
registries:
{{- range .Registries}}
  - name: {{.Name}}
    type: mesh
    url: {{.URL}}
    token: t0ken
    leaseDuration: {{$.Lease}}
    renewInterval: {{$.Renew}}
    watchWait: 2s
    retryMaxBackoff: {{if $.DefaultBackoff}}2s{{else}}200ms{{end}}
{{- end}}
pairs:
{{- range .Pairs}}
  - {from: {{.From}}, to: {{.To}}, direction: {{.Direction}}{{if .Transformers}}, transformers: [{{.Transformers}}]{{end}}}
{{- end}}
engine:
  antiEntropyInterval: {{.AntiEntropy}}
  relistInterval: 0s
  retryInterval: 200ms
  writeConcurrency: 8
  breaker: {maxDeleteShare: {{if .BreakerOff}}1{{else}}0.3{{end}}}
admin:
  listen: {{.Admin}}
{{- if .Election}}
election:
  registry: {{.Election}}
  ttl: {{.TTL}}
{{- end}}
drain:
  removeCopies: {{.Remove}}
  timeout: 10s
log:
  level: {{.Level}}
`))

type planeRef struct{ Name, URL string }

type pairRef struct{ From, To, Direction, Transformers string }

type syncerConfig struct {
	ID              string
	Registries      []planeRef
	Pairs           []pairRef
	Lease, Renew    time.Duration
	AntiEntropy     time.Duration
	Admin, Election string
	TTL             time.Duration
	Remove          bool
	Level           string
	// DefaultBackoff keeps the mesh source's default retry backoff (2s)
	// instead of the tests' 200ms.
	DefaultBackoff bool
	// BreakerOff turns the deletion breaker off, for churn that deletes
	// much on purpose.
	BreakerOff bool
	// Plugins are appended as the plugins: list.
	Plugins []host.Config
}

// write writes c to a file in dir and returns its path.
func (c syncerConfig) write(t *testing.T) string {
	t.Helper()
	if c.ID == "" {
		c.ID = "syncer-1"
	}
	if c.Lease == 0 {
		c.Lease, c.Renew = 10*time.Second, time.Second
	}
	if c.AntiEntropy == 0 {
		c.AntiEntropy = 30 * time.Second
	}
	if c.Admin == "" {
		c.Admin = loopback.Addr(t)
	}
	if c.Level == "" {
		c.Level = "warn"
	}
	var b bytes.Buffer
	if err := configTemplate.Execute(&b, c); err != nil {
		t.Fatal(err)
	}
	if len(c.Plugins) > 0 {
		plugins, err := yaml.Marshal(map[string][]host.Config{"plugins": c.Plugins})
		if err != nil {
			t.Fatal(err)
		}
		b.Write(plugins)
	}
	p := filepath.Join(t.TempDir(), "registrysync.yaml")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func app1(service, id string) *registry.Instance {
	return &registry.Instance{Service: service, ID: id, Host: "10.0.0.1", Port: 8080, Metadata: map[string]string{"version": "v1"}}
}

func register(t *testing.T, p *meshtest.Plane, insts ...*registry.Instance) {
	t.Helper()
	for _, inst := range insts {
		if _, err := p.Client.Register(meshtest.Ctx(t), inst); err != nil {
			t.Fatalf("register %s/%s: %v", inst.Service, inst.ID, err)
		}
	}
}

// copies counts the copies p holds, and the instances.
func copies(t *testing.T, p *meshtest.Plane) (copies, all int) {
	t.Helper()
	list, _, err := p.Client.Instances(meshtest.Ctx(t), registry.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, inst := range list {
		if registrysync.IsCopy(inst) {
			copies++
		}
	}
	return copies, len(list)
}

func status(admin string) (registrysync.Status, error) {
	var st registrysync.Status
	resp, err := http.Get("http://" + admin + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status %d", resp.StatusCode)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func TestDryRunPrintsThePlan(t *testing.T) {
	legacy := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	m := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	register(t, legacy, app1("orders", "orders-1"))
	cfg := syncerConfig{Registries: []planeRef{{"legacy", legacy.URL}, {"mesh", m.URL}}, Pairs: []pairRef{{"legacy", "mesh", "one-way", ""}}}.write(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--config", cfg, "--dry-run"}, &out, &errOut); code != app.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "pairs[0] legacy -> mesh: 1 to add") || !strings.Contains(out.String(), "add    orders/orders-1") {
		t.Fatalf("plan:\n%s", out.String())
	}
	if n, _ := copies(t, m); n != 0 {
		t.Fatalf("the dry run wrote %d copies", n)
	}
}

func TestRunServesStatusAndMetricsAndLeavesCopiesOnStop(t *testing.T) {
	legacy := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	m := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	register(t, legacy, app1("orders", "orders-1"))
	admin := loopback.Addr(t)
	cfg := syncerConfig{Registries: []planeRef{{"legacy", legacy.URL}, {"mesh", m.URL}}, Pairs: []pairRef{{"legacy", "mesh", "both", ""}}, Admin: admin}.write(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() { done <- run(ctx, []string{"--config", cfg}, io.Discard, &errOut) }()
	poll.UntilNil(t, "the copy written", func() error {
		st, err := status(admin)
		if err != nil {
			return err
		}
		if !st.Leader || len(st.Pairs) != 2 || st.Pairs[0].Copies != 1 || st.Pairs[0].LastFullSync == nil {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	}, poll.Within(15*time.Second))
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`meshbridge_registrysync_writes_total{from="legacy",op="add",to="mesh"} 1`, "meshbridge_registrysync_propagation_seconds_bucket",
		`meshbridge_registrysync_copies{from="legacy",to="mesh"} 1`, "meshbridge_registrysync_leader 1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != app.ExitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no stop within 20s")
	}
	if n, _ := copies(t, m); n != 1 {
		t.Fatalf("%d copies after the stop; removeCopies is off, the copy stays for a peer", n)
	}
}

func TestStopWithRemoveCopiesRemovesThem(t *testing.T) {
	legacy := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	m := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	register(t, legacy, app1("orders", "orders-1"), app1("orders", "orders-2"))
	cfg := syncerConfig{Registries: []planeRef{{"legacy", legacy.URL}, {"mesh", m.URL}}, Pairs: []pairRef{{"legacy", "mesh", "one-way", ""}}, Remove: true}.write(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--config", cfg}, io.Discard, io.Discard) }()
	poll.UntilNil(t, "two copies", func() error {
		if n, _ := copies(t, m); n != 2 {
			return fmt.Errorf("%d copies", n)
		}
		return nil
	}, poll.Within(15*time.Second))
	cancel()
	if code := <-done; code != app.ExitOK {
		t.Fatalf("exit %d", code)
	}
	if n, all := copies(t, m); n != 0 || all != 0 {
		t.Fatalf("%d copies left after a stop with removeCopies", n)
	}
}

// TestTransformerPluginAmendsCopies runs a real instance transformer
// (the example metadata-tagger, as a plugin process) on every record a
// pair copies: it amends the copies, and a record it rejects is an error
// naming the record, not copied, while the rest goes on.
func TestTransformerPluginAmendsCopies(t *testing.T) {
	legacy := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	m := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	unversioned := app1("pay", "pay-1")
	delete(unversioned.Metadata, "version")
	register(t, legacy, app1("orders", "orders-1"), unversioned)
	admin := loopback.Addr(t)
	cfg := syncerConfig{Registries: []planeRef{{"legacy", legacy.URL}, {"mesh", m.URL}}, Admin: admin,
		Pairs:   []pairRef{{"legacy", "mesh", "one-way", "tagger"}},
		Plugins: []host.Config{plugintest.Config(t, "tagger", "metadata-tagger", "-set", "synced=yes", "-require", "version")}}.write(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() { done <- run(ctx, []string{"--config", cfg}, io.Discard, &errOut) }()
	defer func() {
		cancel()
		<-done
	}()
	poll.UntilNil(t, "orders-1 copied, pay-1 refused", func() error {
		got, err := m.Client.Instance(meshtest.Ctx(t), registry.NewInstanceKey("", "", "orders", "orders-1"))
		if err != nil {
			return err
		}
		if got.Metadata["synced"] != "yes" {
			return fmt.Errorf("copy metadata %v", got.Metadata)
		}
		st, err := status(admin)
		if err != nil {
			return err
		}
		if errs := st.Pairs[0].Errors; len(errs) == 0 || errs[0].Record != "pay/pay-1" || errs[0].Op != "transform" {
			return fmt.Errorf("errors %+v", errs)
		}
		return nil
	}, poll.Within(30*time.Second))
	if n, _ := copies(t, m); n != 1 {
		t.Fatalf("%d copies; the rejected record must not be copied", n)
	}
}

// --release-breaker reaches the syncer running on this host through its
// admin listener's port on loopback, prints its answer and exits; without
// a syncer it fails saying so.
func TestReleaseBreakerAsksTheRunningSyncer(t *testing.T) {
	legacy := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	m := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	admin := loopback.Addr(t)
	cfg := syncerConfig{Registries: []planeRef{{"legacy", legacy.URL}, {"mesh", m.URL}}, Pairs: []pairRef{{"legacy", "mesh", "one-way", ""}}, Admin: admin}.write(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--config", cfg, "--release-breaker"}, &out, &errOut); code == app.ExitOK || !strings.Contains(errOut.String(), "release breaker") {
		t.Fatalf("without a syncer: exit %d, %q", code, errOut.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--config", cfg}, io.Discard, io.Discard) }()
	defer func() { cancel(); <-done }()
	poll.UntilNil(t, "the syncer's admin listener", func() error { _, err := status(admin); return err }, poll.Within(15*time.Second))
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"--config", cfg, "--release-breaker"}, &out, &errOut); code != app.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var answer struct{ Released *int }
	if err := json.Unmarshal(out.Bytes(), &answer); err != nil || answer.Released == nil || *answer.Released != 0 {
		t.Fatalf("answer %q, want no flow released", out.String())
	}
}
