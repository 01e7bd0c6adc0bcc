package crossview_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"
	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
)

// renderedAttributes are attribute keys the front-ends render from; the
// fuzzer picks one by number so that it reaches them.
var renderedAttributes = []string{
	"eureka.ipAddr", "eureka.appGroupName", "eureka.sid", "eureka.homePageUrl", "eureka.statusPageUrl",
	"eureka.healthCheckUrl", "eureka.secureHealthCheckUrl", "eureka.vipAddress", "eureka.secureVipAddress",
	"eureka.countryId", "eureka.dataCenterInfo.name", dataCenterMetadata, "eureka.asgName",
	"eureka.port", "eureka.lastDirtyTimestamp", "eureka.serviceUpTimestamp",
	"consul.service", "consul.check.c1", "nacos.weight", "nacos.enabled", "nacos.app", "other",
}

const dataCenterMetadata = "eureka.dataCenterInfo.metadata"

var origins = []string{registry.OriginEureka, registry.OriginConsul, registry.OriginNacos, registry.OriginControl}

// FuzzViews registers an instance built from the input in the store and,
// when the store accepts it, reads it back through every front-end's HTTP
// handler with the decoders real clients use: fargo's types with
// encoding/xml and encoding/json for Eureka (/apps, /apps/delta,
// /apps/{APP}), consul/api's structs for Consul (/v1/catalog/service,
// /v1/health/service, /v1/agent/services) and nacos-sdk-go's model for
// Nacos (v1 instance/list). Every read must decode and show the instance.
// What the store accepts every view must carry; one instance a view could
// not carry used to break every client of that protocol.
func FuzzViews(f *testing.F) {
	// The seed corpus is testdata/fuzz/FuzzViews: issue 17's cases, each
	// stored once and breaking a view, and values the rule allows that
	// look dangerous.
	v := newViews(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, id, service, group, host string, port int, zone, cluster, metaKey, metaValue, tag string,
		attr uint8, attrValue string, origin uint8, secure bool) {
		in := &registry.Instance{
			ID: id, Service: service, Group: group, Host: host, Port: port, Zone: zone, Cluster: cluster,
			Metadata:   map[string]string{metaKey: metaValue},
			Tags:       []string{tag},
			Attributes: map[string]string{renderedAttributes[int(attr)%len(renderedAttributes)]: attrValue},
			Origin:     origins[int(origin)%len(origins)],
		}
		if in.Attributes[dataCenterMetadata] != "" {
			// Amazon's metadata is only rendered for Amazon.
			in.Attributes["eureka.dataCenterInfo.name"] = "Amazon"
		}
		if secure {
			in.Port, in.SecurePort, in.SecureEnabled = 0, port, true
		}
		v.clock.skipDelta()
		stored, err := v.store.Register(ctx, in)
		if errors.Is(err, registry.ErrInvalid) {
			return
		}
		if err != nil {
			t.Fatalf("register: %v", err)
		}
		defer v.deregister(t, stored)
		v.checkEureka(t, stored)
		v.checkConsul(t, stored)
		v.checkNacos(t, stored)
	})
}

// deregister removes the instance and waits until the views that follow
// the store asynchronously no longer show it, so that the next input,
// which may have the same key, does not find this one there.
func (v *views) deregister(t *testing.T, inst *registry.Instance) {
	t.Helper()
	if _, err := v.store.Deregister(context.Background(), inst.Key()); err != nil {
		t.Fatalf("deregister: %v", err)
	}
	poll.Until(t, "the views to drop the instance", func() bool {
		var apps fargo.GetAppsResponseJson
		var agent map[string]*api.AgentService
		_, a := v.get(v.eureka, "/eureka/apps", "application/json")
		_, b := v.get(v.consul, "/v1/agent/services", "")
		return json.Unmarshal(a, &apps) == nil && len(apps.Response.Applications) == 0 &&
			json.Unmarshal(b, &agent) == nil && len(agent) == 0
	})
}

// checkEureka reads the registry as fargo does, in XML (its default) and
// JSON, once the Eureka view has caught up with the store.
func (v *views) checkEureka(t *testing.T, inst *registry.Instance) {
	t.Helper()
	app := strings.ToUpper(inst.ServiceKey)
	hasInstance := func(a *fargo.Application) bool {
		for _, i := range a.Instances {
			if i.InstanceId == inst.ID && i.HostName == inst.Host {
				return true
			}
		}
		return false
	}
	appPath := "/eureka/apps/" + url.PathEscape(app)
	poll.Until(t, "the Eureka view to show the instance", func() bool {
		code, body := v.get(v.eureka, appPath, "application/xml")
		if code == http.StatusNotFound {
			return false // the view has not caught up with the store yet
		}
		var a fargo.Application
		mustDecode(t, "Eureka /apps/{APP} XML", code, body, xml.Unmarshal(body, &a))
		return hasInstance(&a)
	})
	for _, path := range []string{"/eureka/apps", "/eureka/apps/delta"} {
		for _, accept := range []string{"application/xml", "application/json"} {
			code, body := v.get(v.eureka, path, accept)
			var apps *fargo.GetAppsResponse
			if accept == "application/xml" {
				err := xml.Unmarshal(body, &apps)
				mustDecode(t, "Eureka "+path+" XML", code, body, err)
			} else {
				var doc fargo.GetAppsResponseJson
				err := json.Unmarshal(body, &doc)
				mustDecode(t, "Eureka "+path+" JSON", code, body, err)
				apps = doc.Response
			}
			found := false
			for _, a := range apps.Applications {
				if err := a.ParseAllMetadata(); err != nil {
					t.Fatalf("fargo cannot parse metadata in Eureka %s (%s): %v\n%s", path, accept, err, body)
				}
				found = found || a.Name == app && hasInstance(a)
			}
			if !found {
				t.Fatalf("Eureka %s (%s) lacks %s of %s:\n%s", path, accept, inst.ID, app, body)
			}
		}
	}
	code, body := v.get(v.eureka, appPath, "application/json")
	var doc fargo.GetAppResponseJson
	mustDecode(t, "Eureka /apps/{APP} JSON", code, body, json.Unmarshal(body, &doc))
	if err := doc.Application.ParseAllMetadata(); err != nil || !hasInstance(&doc.Application) {
		t.Fatalf("Eureka /apps/{APP} JSON: metadata %v, or the instance is missing:\n%s", err, body)
	}
}

// checkConsul reads the service as consul/api does. Consul shows the
// default group only, and its agent only the services registered through it.
func (v *views) checkConsul(t *testing.T, inst *registry.Instance) {
	t.Helper()
	if inst.Group != registry.DefaultGroup {
		return
	}
	name := url.PathEscape(inst.Service)
	// A blocking read from just before the write answers once the view has it.
	wait := "?index=" + strconv.FormatInt(inst.Revision-1, 10) + "&wait=10s"
	code, body := v.get(v.consul, "/v1/catalog/service/"+name+wait, "")
	var catalog []*api.CatalogService
	mustDecode(t, "Consul catalog", code, body, json.Unmarshal(body, &catalog))
	if !containsFunc(catalog, func(s *api.CatalogService) bool { return s.ServiceID == inst.ID && s.ServiceAddress == inst.Host }) {
		t.Fatalf("Consul catalog lacks %s:\n%s", inst.ID, body)
	}
	code, body = v.get(v.consul, "/v1/health/service/"+name+wait, "")
	var entries []*api.ServiceEntry
	mustDecode(t, "Consul health", code, body, json.Unmarshal(body, &entries))
	if !containsFunc(entries, func(e *api.ServiceEntry) bool { return e.Service.ID == inst.ID }) {
		t.Fatalf("Consul health lacks %s:\n%s", inst.ID, body)
	}
	if inst.Origin != registry.OriginConsul {
		return
	}
	poll.Until(t, "the Consul agent to show the service", func() bool {
		code, body := v.get(v.consul, "/v1/agent/services", "")
		var services map[string]*api.AgentService
		mustDecode(t, "Consul agent services", code, body, json.Unmarshal(body, &services))
		return services[inst.ID] != nil
	})
}

// checkNacos reads the service as nacos-sdk-go's v1 path does.
func (v *views) checkNacos(t *testing.T, inst *registry.Instance) {
	t.Helper()
	q := url.Values{"serviceName": {inst.Group + registry.GroupSeparator + inst.Service}, "namespaceId": {inst.Namespace}}
	code, body := v.get(v.nacos, "/nacos/v1/ns/instance/list?"+q.Encode(), "")
	var svc model.Service
	mustDecode(t, "Nacos instance/list", code, body, json.Unmarshal(body, &svc))
	if !containsFunc(svc.Hosts, func(h model.Instance) bool { return h.InstanceId == inst.ID && h.Ip == inst.Host }) {
		t.Fatalf("Nacos instance/list lacks %s:\n%s", inst.ID, body)
	}
}

func mustDecode(t *testing.T, what string, code int, body []byte, err error) {
	t.Helper()
	if code != http.StatusOK || err != nil {
		t.Fatalf("%s: status %d, decode: %v\n%s", what, code, err, body)
	}
}

func containsFunc[T any](s []T, match func(T) bool) bool {
	for _, x := range s {
		if match(x) {
			return true
		}
	}
	return false
}
