package eureka

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	"github.com/meshbridge/meshbridge/registry"
)

// TestConformance runs what every front-end does: registrations as a
// Spring client sends them, lookups through fargo.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, adaptertest.Protocol{
		Start:     func(t *testing.T) *adaptertest.Server { return newEnv(t).server },
		Register:  springRegister,
		Addresses: fargoAddresses,
		BodyLimit: 1 << 20,
	})
}

// springRegister registers in as Spring's RestClientEurekaHttpClient does.
func springRegister(t *testing.T, s *adaptertest.Server, in *registry.Instance) int {
	t.Helper()
	app := strings.ToUpper(in.Service)
	body, err := json.Marshal(map[string]any{"instance": map[string]any{
		"instanceId": in.ID, "hostName": in.Host, "app": app, "ipAddr": in.Host, "status": "UP",
		"port":           map[string]any{"$": in.Port, "@enabled": "true"},
		"dataCenterInfo": map[string]any{"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"},
		"metadata":       in.Metadata,
	}})
	if err != nil {
		t.Fatal(err)
	}
	code, _, _ := s.Do(t, http.MethodPost, "/eureka/apps/"+app, bytes.NewReader(body), map[string]string{"Content-Type": "application/json"})
	return code
}

// fargoAddresses lists the service's instances as fargo fetches them.
func fargoAddresses(t *testing.T, s *adaptertest.Server, service string) []string {
	conn := fargo.NewConn(s.URL + "/eureka")
	conn.UseJson = true
	app, err := conn.GetApp(strings.ToUpper(service))
	if err != nil {
		return nil // an app Eureka does not know is a 404
	}
	var out []string
	for _, in := range app.Instances {
		out = append(out, in.IPAddr+":"+strconv.Itoa(in.Port))
	}
	return out
}
