package nacos_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"testing"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
)

// The console's instance list (GET /nacos/v1/ns/catalog/instances), as
// Nacos 2.x serves it: one cluster of a service, disabled instances
// included (instance/list leaves them out), paged, {"list","count"}; a
// service or cluster without instances is 404, a missing parameter 400.
func TestCatalogInstancesListsDisabledInstances(t *testing.T) {
	e := startEnv(t, testOptions())
	register := func(ip, cluster string) {
		form := url.Values{"serviceName": {"orders"}, "groupName": {"billing"}, "namespaceId": {"public"},
			"clusterName": {cluster}, "ip": {ip}, "port": {"8080"}, "ephemeral": {"true"}}
		if body := postForm(t, e, "/nacos/v1/ns/instance", form.Encode()); body != "ok" {
			t.Fatalf("register %s: %q", ip, body)
		}
	}
	register("10.9.1.1", "DEFAULT")
	register("10.9.1.2", "DEFAULT")
	register("10.9.1.3", "DEFAULT")
	register("10.9.1.9", "east")
	// Spring Cloud Alibaba's status DOWN.
	if code, body := do(t, e, http.MethodPut, "/nacos/v1/ns/instance", "serviceName=orders&groupName=billing&ip=10.9.1.2&port=8080&enabled=false&ephemeral=true", nil); code != 200 {
		t.Fatalf("disable: %d %s", code, body)
	}

	list := func(query string) (int, catalogPage, string) {
		t.Helper()
		code, body := do(t, e, http.MethodGet, "/nacos/v1/ns/catalog/instances", query, nil)
		var page catalogPage
		if code == 200 {
			if err := json.Unmarshal([]byte(body), &page); err != nil {
				t.Fatalf("%s: %v in %s", query, err, body)
			}
		}
		return code, page, body
	}
	code, page, body := list("serviceName=orders&groupName=billing&namespaceId=public&clusterName=DEFAULT&pageNo=1&pageSize=10")
	if code != 200 || page.Count != 3 || len(page.List) != 3 {
		t.Fatalf("catalog of DEFAULT: %d %s", code, body)
	}
	enabled := map[string]bool{}
	for _, in := range page.List {
		enabled[in.IP] = in.Enabled
		if in.ClusterName != "DEFAULT" || in.ServiceName != "billing@@orders" || in.InstanceID == "" {
			t.Errorf("instance %+v: want cluster DEFAULT, grouped service billing@@orders, an instance id", in)
		}
	}
	if want := map[string]bool{"10.9.1.1": true, "10.9.1.2": false, "10.9.1.3": true}; !maps.Equal(enabled, want) {
		t.Errorf("enabled by ip = %v, want %v", enabled, want)
	}
	// The grouped name alone says the group; pages are cut from the count.
	if code, page, body := list("serviceName=billing%40%40orders&clusterName=DEFAULT&pageNo=2&pageSize=2"); code != 200 || page.Count != 3 || len(page.List) != 1 {
		t.Errorf("second page of 2: %d %s", code, body)
	}
	if code, page, body := list("serviceName=billing%40%40orders&clusterName=DEFAULT&pageNo=3&pageSize=2"); code != 200 || page.Count != 3 || len(page.List) != 0 {
		t.Errorf("a page past the end: %d %s", code, body)
	}
	if code, page, body := list("serviceName=billing%40%40orders&clusterName=east&pageNo=1&pageSize=10"); code != 200 || page.Count != 1 || page.List[0].IP != "10.9.1.9" {
		t.Errorf("catalog of east: %d %s", code, body)
	}
	for query, want := range map[string]int{
		"serviceName=billing%40%40orders&clusterName=west&pageNo=1&pageSize=10":      404,
		"serviceName=billing%40%40payments&clusterName=DEFAULT&pageNo=1&pageSize=10": 404,
		"serviceName=billing%40%40orders&pageNo=1&pageSize=10":                       400,
		"serviceName=billing%40%40orders&clusterName=DEFAULT&pageSize=10":            400,
		"clusterName=DEFAULT&pageNo=1&pageSize=10":                                   400,
	} {
		if code, _, body := list(query); code != want {
			t.Errorf("%s: %d %s, want %d", query, code, body, want)
		}
	}
}

type catalogPage struct {
	List  []naming.Instance `json:"list"`
	Count int               `json:"count"`
}
