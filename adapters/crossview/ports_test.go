package crossview_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
)

// TestBothPortsAreCalledOnTheSecureOne registers, through Eureka, an
// instance with its plain port 8080 and its secure port 8443 both enabled.
// Spring Cloud Netflix calls such an instance at https://host:8443
// (isSecure); the Consul and Nacos views must say the same, one port and a
// secure flag, and not "secure" on the plain port, where a Spring Cloud
// Consul or Alibaba client would then speak TLS to a plain listener.
func TestBothPortsAreCalledOnTheSecureOne(t *testing.T) {
	v := newViews(t)
	body := `{"instance":{"instanceId":"orders-1","hostName":"10.0.0.7","app":"ORDERS","ipAddr":"10.0.0.7",
		"vipAddress":"orders","secureVipAddress":"orders","status":"UP",
		"port":{"$":8080,"@enabled":"true"},"securePort":{"$":8443,"@enabled":"true"},
		"dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"}}}`
	req := httptest.NewRequest(http.MethodPost, "/eureka/apps/ORDERS", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	v.eureka.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("register through Eureka: %d %s", rec.Code, rec.Body)
	}

	code, raw := v.get(v.consul, "/v1/health/service/orders", "")
	var entries []api.ServiceEntry
	mustDecode(t, "Consul /v1/health/service/orders", code, raw, json.Unmarshal(raw, &entries))
	if len(entries) != 1 {
		t.Fatalf("Consul lists %d instances, want 1: %s", len(entries), raw)
	}
	if s := entries[0].Service; s.Port != 8443 || s.Meta["secure"] != "true" {
		t.Errorf("Consul shows port %d secure=%q, want 8443 secure=true", s.Port, s.Meta["secure"])
	}

	code, raw = v.get(v.nacos, "/nacos/v1/ns/instance/list?serviceName=orders", "")
	var svc model.Service
	mustDecode(t, "Nacos instance/list", code, raw, json.Unmarshal(raw, &svc))
	if len(svc.Hosts) != 1 {
		t.Fatalf("Nacos lists %d instances, want 1: %s", len(svc.Hosts), raw)
	}
	if h := svc.Hosts[0]; h.Port != 8443 || h.Metadata["secure"] != "true" {
		t.Errorf("Nacos shows port %d secure=%q, want 8443 secure=true", h.Port, h.Metadata["secure"])
	}
}
