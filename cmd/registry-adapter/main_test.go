package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/app/apptest"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/plugins/host/plugintest"
	"github.com/meshbridge/meshbridge/registry"
)

// TestMain fails the run if a plugin process outlives its test.
func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

// run runs the command as main does, with the test's context and buffers.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return app.Run(ctx, command, args, stdout, stderr)
}

func TestHelpAndVersion(t *testing.T) {
	apptest.HelpAndVersion(t, command, "registry-adapter", "-data-dir")
}

func TestBadConfigIsRejectedWithTheKeyNamed(t *testing.T) {
	apptest.RejectsBadConfig(t, command, func(t *testing.T) []string { return []string{"--data-dir", t.TempDir()} })
}

func TestShippedConfigLoads(t *testing.T) {
	cfg := DefaultConfig()
	if err := decodeConfig("../../configs/registry-adapter.yaml", cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if cfg.Control.Listen != def.Control.Listen || cfg.Store.History != def.Store.History {
		t.Fatalf("shipped config differs from the defaults it documents: %+v", cfg)
	}
}

// binary builds registry-adapter once per test run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "registry-adapter-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "registry-adapter")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is a running registry-adapter.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
	exited chan struct{} // closed when the process is gone
	err    error         // its exit status, once exited is closed
}

func start(t *testing.T, dataDir string, extra ...string) *process {
	t.Helper()
	addr := loopback.Addr(t)
	// Registry front-ends are off unless a test turns one on.
	args := append([]string{"--data-dir", dataDir, "--control-listen", addr, "--nacos-listen=", "--eureka-listen=", "--consul-listen="}, extra...)
	cmd := exec.Command(binary(t), args...)
	p := &process{cmd: cmd, addr: addr, stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("registry-adapter stderr:\n%s", p.stderr)
		}
	})
	poll.UntilNil(t, "registry-adapter ready", poll.GetOK("http://"+addr+"/readyz"), poll.Within(20*time.Second))
	return p
}

// TestAcknowledgedWritesSurviveSIGKILL kills the adapter in the middle of a
// burst of registrations and checks that every write acknowledged before the
// kill is there after a restart.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	client, err := control.NewClient("http://"+p.addr, control.WithRetries(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	stopWriting := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stopWriting:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", w, i)
				in := &registry.Instance{ID: id, Service: fmt.Sprintf("svc-%d", i%50), Host: "10.1.0.1", Port: 8000 + w}
				if _, err := client.Register(ctx, in); err != nil {
					return // the process is gone
				}
				mu.Lock()
				acked[registry.NewInstanceKey("", "", in.Service, id).String()] = true
				mu.Unlock()
			}
		}()
	}
	// Let the burst run, then kill without warning.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stopWriting)
	wg.Wait()
	mu.Lock()
	ackedCount := len(acked)
	mu.Unlock()
	if ackedCount < 100 {
		t.Fatalf("only %d writes acknowledged before the kill; the burst did not run", ackedCount)
	}

	p2 := start(t, dir)
	client2, _ := control.NewClient("http://" + p2.addr)
	list, _, err := client2.Instances(ctx, registry.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, i := range list {
		have[i.Key().String()] = true
	}
	missing := 0
	for k := range acked {
		if !have[k] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes lost after SIGKILL", missing, ackedCount)
	}
	t.Logf("%d acknowledged writes, all present after restart (%d stored)", ackedCount, len(list))
}

// TestSIGTERMDrains checks that a long-poll in flight is answered and the
// process exits 0 promptly on SIGTERM.
func TestSIGTERMDrains(t *testing.T) {
	p := start(t, t.TempDir())
	pollDone := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + p.addr + "/api/v1/watch?index=1&wait=5m")
		if err != nil {
			pollDone <- err
			return
		}
		defer resp.Body.Close()
		var res control.WatchResult
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			pollDone <- err
			return
		}
		if resp.StatusCode != 200 {
			pollDone <- fmt.Errorf("status %d", resp.StatusCode)
			return
		}
		pollDone <- nil
	}()
	time.Sleep(200 * time.Millisecond) // let the poll reach the server
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-pollDone:
		if err != nil {
			t.Fatalf("long-poll during drain: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long-poll not answered during drain")
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("exit: %v\n%s", p.err, p.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("process did not exit after SIGTERM")
	}
	sc := bufio.NewScanner(bytes.NewReader(p.stderr.Bytes()))
	stopped := false
	for sc.Scan() {
		stopped = stopped || strings.Contains(sc.Text(), "registry-adapter stopped")
	}
	if !stopped {
		t.Fatalf("no clean stop logged:\n%s", p.stderr)
	}
}

// TestRegistryViewsShareOneRegistry registers through the control API and
// reads the instance back through each mounted registry front-end.
func TestRegistryViewsShareOneRegistry(t *testing.T) {
	nacosPort := loopback.Port(t, 1000)
	eurekaAddr, consulAddr := loopback.Addr(t), loopback.Addr(t)
	p := start(t, t.TempDir(), fmt.Sprintf("--nacos-listen=127.0.0.1:%d", nacosPort), "--eureka-listen="+eurekaAddr, "--consul-listen="+consulAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, _ := control.NewClient("http://" + p.addr)
	if _, err := client.Register(ctx, &registry.Instance{ID: "o-1", Service: "orders", Host: "10.0.0.7", Port: 8080}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/nacos/v1/ns/instance/list?serviceName=orders", nacosPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Hosts []struct {
			IP   string `json:"ip"`
			Port int    `json:"port"`
		} `json:"hosts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if len(list.Hosts) != 1 || list.Hosts[0].IP != "10.0.0.7" || list.Hosts[0].Port != 8080 {
		t.Fatalf("nacos view: %+v", list)
	}
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", nacosPort+1000), 5*time.Second)
	if err != nil {
		t.Fatalf("nacos gRPC port not served: %v", err)
	}
	conn.Close()

	// Eureka shows it as app ORDERS with VIP orders (the view follows the
	// store's watch, so poll briefly).
	var app struct {
		Application struct {
			Name     string `json:"name"`
			Instance []struct {
				InstanceID string `json:"instanceId"`
				VIPAddress string `json:"vipAddress"`
				Port       struct {
					Number int `json:"$"`
				} `json:"port"`
			} `json:"instance"`
		} `json:"application"`
	}
	poll.UntilNil(t, "orders in the Eureka view", func() error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+eurekaAddr+"/eureka/apps/ORDERS", nil)
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&app); err != nil {
			return err
		}
		if len(app.Application.Instance) != 1 {
			return fmt.Errorf("eureka view: %+v", app)
		}
		return nil
	})
	if in := app.Application.Instance[0]; app.Application.Name != "ORDERS" || in.InstanceID != "o-1" || in.VIPAddress != "orders" || in.Port.Number != 8080 {
		t.Fatalf("eureka view: %+v", app)
	}

	cresp, err := http.Get("http://" + consulAddr + "/v1/health/service/orders?passing=true")
	if err != nil {
		t.Fatal(err)
	}
	defer cresp.Body.Close()
	var entries []struct {
		Service struct {
			ID      string
			Address string
			Port    int
		}
	}
	if err := json.NewDecoder(cresp.Body).Decode(&entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Service.ID != "o-1" || entries[0].Service.Address != "10.0.0.7" || entries[0].Service.Port != 8080 {
		t.Fatalf("consul view: %+v", entries)
	}
	if cresp.Header.Get("X-Consul-Index") == "" {
		t.Fatal("consul view without X-Consul-Index")
	}
}

// TestTransformerPluginOnEveryRegistration runs the metadata-tagger example
// as a real plugin process: registrations through the control API and the
// Eureka API both pass through it; one without the required key is refused
// and nothing is stored.
func TestTransformerPluginOnEveryRegistration(t *testing.T) {
	plug := plugintest.Binary(t, "metadata-tagger")
	cfgPath := filepath.Join(t.TempDir(), "adapter.yaml")
	cfg := fmt.Sprintf("plugins:\n  - name: tagger\n    path: %s\n    args: [\"-set\", \"env=prod\", \"-require\", \"team\"]\n    sha256: %s\n",
		plug, plugintest.Checksum(t, plug))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	eurekaAddr := loopback.Addr(t)
	p := start(t, t.TempDir(), "--config", cfgPath, "--eureka-listen="+eurekaAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, _ := control.NewClient("http://" + p.addr)

	before, _, _ := client.Instances(ctx, registry.Filter{})
	_, err := client.Register(ctx, &registry.Instance{ID: "o-1", Service: "orders", Host: "10.0.0.7", Port: 8080})
	if !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("registration without team: %v, want an invalid-input refusal", err)
	}
	got, err := client.Register(ctx, &registry.Instance{ID: "o-2", Service: "orders", Host: "10.0.0.7", Port: 8081, Metadata: map[string]string{"team": "payments"}})
	if err != nil || got.Metadata["env"] != "prod" {
		t.Fatalf("registration with team: %+v, %v", got, err)
	}
	// The same plugin sees Eureka registrations.
	body := `{"instance":{"instanceId":"e-1","hostName":"h","app":"ORDERS","ipAddr":"10.0.0.8","status":"UP",
"port":{"$":8080,"@enabled":"true"},"securePort":{"$":443,"@enabled":"false"},"vipAddress":"orders",
"dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"},"metadata":{"team":"search"}}}`
	resp, err := http.Post("http://"+eurekaAddr+"/eureka/apps/ORDERS", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("eureka register: %d", resp.StatusCode)
	}
	e1, err := client.Instance(ctx, registry.NewInstanceKey("", "", "orders", "e-1"))
	if err != nil || e1.Metadata["env"] != "prod" || e1.Metadata["team"] != "search" {
		t.Fatalf("eureka registration not transformed: %+v, %v", e1, err)
	}
	after, _, _ := client.Instances(ctx, registry.Filter{})
	if len(after) != len(before)+2 {
		t.Fatalf("%d instances stored, want %d (the refused one must not be there)", len(after), len(before)+2)
	}
}
