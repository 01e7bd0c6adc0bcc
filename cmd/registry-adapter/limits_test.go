package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/serve/servetest"
)

// Every HTTP listener of registry-adapter bounds the time to read a
// request body (http.readBodyTimeout) and the size of a request's header
// (http.maxHeaderBytes); long-polls and blocking queries outlive the body
// bound, with or without a body before them.
func TestListenersBoundBodiesAndHeaders(t *testing.T) {
	const readBody = 500 * time.Millisecond
	cfgPath := filepath.Join(t.TempDir(), "adapter.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("http:\n  readBodyTimeout: %v\n", readBody)), 0o600); err != nil {
		t.Fatal(err)
	}
	nacosAddr := fmt.Sprintf("127.0.0.1:%d", loopback.Port(t, 1000))
	eurekaAddr, consulAddr := loopback.Addr(t), loopback.Addr(t)
	p := start(t, t.TempDir(), "--config", cfgPath,
		"--nacos-listen="+nacosAddr, "--eureka-listen="+eurekaAddr, "--consul-listen="+consulAddr)

	listeners := []struct {
		name, addr, method, path, contentType string
	}{
		{"control", p.addr, http.MethodPost, "/api/v1/instances", "application/json"},
		{"eureka", eurekaAddr, http.MethodPost, "/eureka/apps/PROBE", "application/json"},
		{"consul", consulAddr, http.MethodPut, "/v1/agent/service/register", "application/json"},
		{"nacos", nacosAddr, http.MethodPost, "/nacos/v1/ns/instance", "application/x-www-form-urlencoded"},
	}
	for _, l := range listeners {
		t.Run(l.name+": a stalled body gets 408 and the connection closes", func(t *testing.T) {
			if status, closed := servetest.StallBody(t, l.addr, l.method, l.path, l.contentType); status != http.StatusRequestTimeout || !closed {
				t.Fatalf("answered %d (connection closed: %v), want 408 and closed", status, closed)
			}
		})
		t.Run(l.name+": a 1 MiB header gets 431", func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+l.addr+l.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Padding", strings.Repeat("a", 1<<20))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("answered %d, want 431", resp.StatusCode)
			}
		})
	}

	// The long waits below are lower bounds on purpose: an answer before
	// them would mean the body bound cut the request short.
	t.Run("consul: a blocking query outlives the body bound", func(t *testing.T) {
		resp, err := http.Get("http://" + consulAddr + "/v1/catalog/services")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		began := time.Now()
		resp, err = http.Get("http://" + consulAddr + "/v1/catalog/services?wait=2s&index=" + resp.Header.Get("X-Consul-Index"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if took := time.Since(began); resp.StatusCode != http.StatusOK || took < 2*time.Second {
			t.Fatalf("blocking query answered %d after %v, want 200 after its 2s wait", resp.StatusCode, took)
		}
	})
	t.Run("nacos: a config long-poll after its body outlives the body bound", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, "http://"+nacosAddr+"/nacos/v1/cs/configs/listener",
			strings.NewReader("Listening-Configs=absent.yaml%02DEFAULT_GROUP%02%01"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Long-Pulling-Timeout", "2500") // held 2s, Nacos's timeout - 500ms
		began := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if took := time.Since(began); err != nil || resp.StatusCode != http.StatusOK || len(body) != 0 || took < 2*time.Second {
			t.Fatalf("long-poll answered %d %q (%v) after %v, want 200 with nothing changed after 2s", resp.StatusCode, body, err, took)
		}
	})
}
