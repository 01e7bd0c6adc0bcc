package runner

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/meshbridge/meshbridge/registrysync/legacytest"
)

// TestNacosEnableURLDisablesAndEnables sends the runner's call to a Nacos
// stand-in (the registry-adapter's Nacos front-end, as in the scenarios)
// and checks that a client's listing drops the instance, then has it back.
func TestNacosEnableURLDisablesAndEnables(t *testing.T) {
	server := legacytest.StartNacos(t)
	base := "http://" + server.HTTPAddr
	call := func(method, u string) string {
		t.Helper()
		req, err := http.NewRequest(method, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %s %s (%v)", method, u, resp.Status, body, err)
		}
		return string(body)
	}
	listed := func() int {
		var info struct {
			Hosts []json.RawMessage `json:"hosts"`
		}
		if err := json.Unmarshal([]byte(call(http.MethodGet, base+"/nacos/v1/ns/instance/list?serviceName=pay")), &info); err != nil {
			t.Fatal(err)
		}
		return len(info.Hosts)
	}
	q := url.Values{"serviceName": {"pay"}, "ip": {"127.0.0.1"}, "port": {"9000"}, "ephemeral": {"false"}}
	call(http.MethodPost, base+"/nacos/v1/ns/instance?"+q.Encode())
	if n := listed(); n != 1 {
		t.Fatalf("registered: %d listed", n)
	}
	call(http.MethodPut, nacosEnableURL(server.HTTPAddr, "pay", "127.0.0.1:9000", false))
	if n := listed(); n != 0 {
		t.Fatalf("disabled: %d listed, want none", n)
	}
	call(http.MethodPut, nacosEnableURL(server.HTTPAddr, "pay", "127.0.0.1:9000", true))
	if n := listed(); n != 1 {
		t.Fatalf("enabled again: %d listed", n)
	}
}
