package eureka

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hudl/fargo"
)

// TestBadInput sends what the server refuses and checks the answer and
// that nothing in the store changed.
func TestBadInput(t *testing.T) {
	env := newEnv(t)
	c := springClient{env: env, base: "/eureka"}
	good := springBody(t)
	if code, _ := c.register(good); code != http.StatusNoContent {
		t.Fatalf("register: %d", code)
	}
	before := mustGet(t, env, "orders", springID)
	rev := env.store.Revision()

	tooManyKeys := strings.Builder{}
	tooManyKeys.WriteString("/eureka/apps/ORDERS/" + springID + "/metadata?")
	for i := range 200 {
		tooManyKeys.WriteString("k" + strings.Repeat("x", i) + "=v&")
	}
	bigMeta := make([]string, 0, 200)
	for i := range 200 {
		bigMeta = append(bigMeta, `"m`+strings.Repeat("x", i)+`":"v"`)
	}
	json := "application/json"
	xml := "application/xml"
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		want        int
		wantText    string
	}{
		{"malformed JSON", "POST", "/eureka/apps/ORDERS", json, `{"instance":{"hostName":`, 400, ""},
		{"malformed XML", "POST", "/eureka/apps/ORDERS", xml, `<instance><hostName>x</instance>`, 400, ""},
		{"JSON without the instance root", "POST", "/eureka/apps/ORDERS", json, strings.TrimSuffix(strings.TrimPrefix(good, `{"instance":`), "}\n"), 400, ""},
		{"XML with another root", "POST", "/eureka/apps/ORDERS", xml, `<application><name>ORDERS</name></application>`, 400, ""},
		{"deeply nested JSON", "POST", "/eureka/apps/ORDERS", json, `{"instance":{"metadata":` + strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000) + "}}", 400, ""},
		{"deeply nested XML", "POST", "/eureka/apps/ORDERS", xml, "<instance>" + strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000) + "</instance>", 400, "nested deeper than 32 levels"},
		{"body over 1 MiB", "POST", "/eureka/apps/ORDERS", json, `{"instance":{"hostName":"` + strings.Repeat("x", 1<<20) + `"}}`, 413, ""},
		{"unsupported content type", "POST", "/eureka/apps/ORDERS", "text/plain", good, 415, ""},
		{"missing instanceId and hostName", "POST", "/eureka/apps/ORDERS", json, `{"instance":{"app":"ORDERS","ipAddr":"1.2.3.4","dataCenterInfo":{"name":"MyOwn"}}}`, 400, "Missing instanceId"},
		{"missing ipAddr", "POST", "/eureka/apps/ORDERS", json, strings.Replace(good, `"ipAddr":"10.1.2.3",`, "", 1), 400, "Missing ip address"},
		{"mismatched app", "POST", "/eureka/apps/BILLING", json, good, 400, "Mismatched appName, expecting BILLING but was ORDERS"},
		{"missing dataCenterInfo", "POST", "/eureka/apps/ORDERS", json, strings.Replace(good, `"dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"},`, "", 1), 400, "Missing dataCenterInfo"},
		{"instance ID with a slash", "POST", "/eureka/apps/ORDERS", json, strings.Replace(good, springID, "a/b", 1), 400, "Invalid instance"},
		{"too much metadata", "POST", "/eureka/apps/ORDERS", json, strings.Replace(good, `"metadata":{`, `"metadata":{`+strings.Join(bigMeta, ",")+",", 1), 400, "Invalid instance"},
		{"renew with a malformed lastDirtyTimestamp", "PUT", "/eureka/apps/ORDERS/" + springID + "?status=UP&lastDirtyTimestamp=soon", "", "", 400, ""},
		{"status override without a value", "PUT", "/eureka/apps/ORDERS/" + springID + "/status", "", "", 500, ""},
		{"status override with an unknown value", "PUT", "/eureka/apps/ORDERS/" + springID + "/status?value=SLEEPY", "", "", 500, ""},
		{"status override of an unknown instance", "PUT", "/eureka/apps/ORDERS/nobody/status?value=UP", "", "", 404, ""},
		{"delete override with an unknown value", "DELETE", "/eureka/apps/ORDERS/" + springID + "/status?value=SLEEPY", "", "", 500, ""},
		{"metadata with too many keys", "PUT", tooManyKeys.String(), "", "", 400, "Invalid metadata"},
		{"metadata with a malformed query", "PUT", "/eureka/apps/ORDERS/" + springID + "/metadata?a=%zz", "", "", 400, ""},
		{"metadata of an unknown instance", "PUT", "/eureka/apps/ORDERS/nobody/metadata?a=b", "", "", 404, ""},
		{"cancel of an unknown instance", "DELETE", "/eureka/apps/ORDERS/nobody", "", "", 404, ""},
		{"unknown app", "GET", "/eureka/apps/NOBODY", "", "", 404, ""},
		{"wrong method", "PATCH", "/eureka/apps", "", "", 405, ""},
		{"unknown resource", "GET", "/eureka/peers", "", "", 404, ""},
		{"outside the base paths", "GET", "/apps", "", "", 404, ""},
		{"empty segment", "GET", "/eureka/apps//x", "", "", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.contentType != "" {
				headers = []string{"Content-Type", tc.contentType}
			}
			code, _, body := env.do(tc.method, tc.path, tc.body, headers...)
			if code != tc.want {
				t.Errorf("status %d, want %d (body %.200q)", code, tc.want, body)
			}
			if tc.wantText != "" && !strings.Contains(string(body), tc.wantText) {
				t.Errorf("body %.200q lacks %q", body, tc.wantText)
			}
			if got := env.store.Revision(); got != rev {
				t.Errorf("store changed: revision %d -> %d", rev, got)
			}
		})
	}
	after := mustGet(t, env, "orders", springID)
	if after.Revision != before.Revision || len(env.mustList()) != 1 {
		t.Errorf("the registered instance changed: revision %d -> %d", before.Revision, after.Revision)
	}
	if code, h, _ := env.do("PATCH", "/eureka/apps/ORDERS/"+url.PathEscape(springID), ""); code != 405 || h.Get("Allow") != "GET, PUT, DELETE" {
		t.Errorf("405 Allow header: %d %q", code, h.Get("Allow"))
	}
}

// TestSpringReaderRejects shows the strict Spring reader used by the
// tests fails on the shapes that break Spring, so passing it means something.
func TestSpringReaderRejects(t *testing.T) {
	valid := `{"applications":{"versions__delta":"1","apps__hashcode":"UP_1_","application":[{"name":"A","instance":[` +
		`{"instanceId":"i","hostName":"h","app":"A","ipAddr":"1.2.3.4","status":"UP","overriddenStatus":"UNKNOWN",` +
		`"port":{"$":80,"@enabled":"true"},"securePort":{"$":443,"@enabled":"false"},"countryId":1,` +
		`"dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"},` +
		`"metadata":{"@class":"java.util.Collections$EmptyMap"},"actionType":"ADDED"}]}]}}`
	if _, err := parseSpringApplications([]byte(valid)); err != nil {
		t.Fatalf("valid document rejected: %v", err)
	}
	for _, tc := range []struct{ name, old, new string }{
		{"root not wrapped", `{"applications":`, `{"applications":{},"other":`},
		{"unknown instance field", `"countryId":1`, `"countryId":1,"weight":1`},
		{"single application not in an array", `"application":[{"name":"A"`, `"application":{"name":"A"`},
		{"dataCenterInfo without @class", `"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",`, ``},
		{"dataCenterInfo with extra fields", `"name":"MyOwn"}`, `"name":"MyOwn","metadata":{}}`},
		{"port enabled as an object", `"@enabled":"true"`, `"@enabled":{}`},
		{"unknown status", `"status":"UP"`, `"status":"HAPPY"`},
		{"unparsable versions__delta", `"versions__delta":"1"`, `"versions__delta":"one"`},
		{"hash code not a string", `"apps__hashcode":"UP_1_"`, `"apps__hashcode":1`},
	} {
		bad := strings.Replace(valid, tc.old, tc.new, 1)
		if bad == valid {
			t.Fatalf("%s: replacement did not apply", tc.name)
		}
		if _, err := parseSpringApplications([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// TestRegisterKeepsNewerData: a registration older than what is stored
// (by lastDirtyTimestamp) only renews, as on the server.
func TestRegisterKeepsNewerData(t *testing.T) {
	env := newEnv(t)
	c := springClient{env: env, base: "/eureka"}
	if code, _ := c.register(springBody(t)); code != http.StatusNoContent {
		t.Fatal(code)
	}
	rev := mustGet(t, env, "orders", springID).Revision
	stale := strings.Replace(springBody(t), `"lastDirtyTimestamp":1630906182808`, `"lastDirtyTimestamp":1630906000000`, 1)
	stale = strings.Replace(stale, `"version":"v1"`, `"version":"v0"`, 1)
	if code, _ := c.register(stale); code != http.StatusNoContent {
		t.Fatal(code)
	}
	if got := mustGet(t, env, "orders", springID); got.Revision != rev || got.Metadata["version"] != "v1" {
		t.Errorf("stale registration replaced newer data: revision %d -> %d, version %s", rev, got.Revision, got.Metadata["version"])
	}
	newer := strings.Replace(springBody(t), `"lastDirtyTimestamp":1630906182808`, `"lastDirtyTimestamp":1630906999999`, 1)
	newer = strings.Replace(newer, `"version":"v1"`, `"version":"v3"`, 1)
	if code, _ := c.register(newer); code != http.StatusNoContent {
		t.Fatal(code)
	}
	got := mustGet(t, env, "orders", springID)
	if got.Metadata["version"] != "v3" || lastDirty(got) != 1630906999999 {
		t.Errorf("newer registration: version %s dirty %d", got.Metadata["version"], lastDirty(got))
	}
}

// TestRegisterRefusesWhatViewsCannotCarry: a registration holding what
// some view of the registry cannot carry gets 400 and changes nothing, so
// the registry stays readable for fargo in XML: one instance with
// "&#x1;" in its host made every XML client's fetch fail.
func TestRegisterRefusesWhatViewsCannotCarry(t *testing.T) {
	env := newEnv(t)
	c := springClient{env: env, base: "/eureka"}
	good := springBody(t)
	if code, _ := c.register(good); code != http.StatusNoContent {
		t.Fatalf("register: %d", code)
	}
	rev := env.store.Revision()
	// spring is the Spring body with one change, under an id of its own,
	// so that every registration let in would stay in the registry.
	n := 0
	spring := func(old, new string) string {
		n++
		b := strings.Replace(good, `"instanceId":"`+springID+`"`, fmt.Sprintf(`"instanceId":"bad-%d"`, n), 1)
		if b2 := strings.Replace(b, old, new, 1); b2 != b {
			return b2
		}
		t.Fatalf("%s not in the Spring body", old)
		return ""
	}
	nested := strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000)
	deepXML := `<instance><instanceId>bad-xml</instanceId><hostName>10.1.2.9</hostName><app>ORDERS</app><ipAddr>10.1.2.9</ipAddr>` +
		`<status>UP</status><port enabled="true">8080</port><dataCenterInfo><name>MyOwn</name></dataCenterInfo>` +
		`<metadata><version>` + nested + `v1</version></metadata></instance>`
	amazon := `"dataCenterInfo":{"@class":"com.netflix.appinfo.AmazonInfo","name":"Amazon","metadata":{"instance-id":"i-1","availability-zone":"eu-1a\u0001"}}`
	for _, tc := range []struct {
		name, method, path, contentType, body, wantText string
	}{
		{"hostName with U+0001", "POST", "/eureka/apps/ORDERS", "application/json", spring(`"hostName":"10.1.2.3"`, `"hostName":"10.0.0.1\u0001"`), "host"},
		{"hostName with CRLF", "POST", "/eureka/apps/ORDERS", "application/json", spring(`"hostName":"10.1.2.3"`, `"hostName":"h\r\nX-Injected: 1"`), "host"},
		{"ipAddr with CRLF", "POST", "/eureka/apps/ORDERS", "application/json", spring(`"ipAddr":"10.1.2.3"`, `"ipAddr":"10.1.2.3\r\nX-Injected: 1"`), "ipAddr"},
		{"instanceId ..", "POST", "/eureka/apps/ORDERS", "application/json", strings.Replace(good, springID, "..", 1), "id"},
		{"instanceId .", "POST", "/eureka/apps/ORDERS", "application/json", strings.Replace(good, springID, ".", 1), "id"},
		{"app with U+FFFE", "POST", "/eureka/apps/ORDERS%EF%BF%BE", "application/json", spring(`"app":"ORDERS"`, `"app":"ORDERS\ufffe"`), "service"},
		{"app with the Nacos group separator", "POST", "/eureka/apps/GRP@@ORDERS", "application/json", spring(`"app":"ORDERS"`, `"app":"GRP@@ORDERS"`), "service"},
		{"metadata value with U+0001", "POST", "/eureka/apps/ORDERS", "application/json", spring(`"version":"v1"`, `"version":"v1\u0001"`), "metadata.version"},
		{"metadata value with U+FFFF", "POST", "/eureka/apps/ORDERS", "application/json", spring(`"version":"v1"`, `"version":"v1\uffff"`), "metadata.version"},
		{"vipAddress with U+0008", "POST", "/eureka/apps/ORDERS", "application/json", spring(`"vipAddress":"orders"`, `"vipAddress":"orders\b"`), "attributes.eureka.vipAddress"},
		{"Amazon metadata with U+0001", "POST", "/eureka/apps/ORDERS", "application/json", spring(`"dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"}`, amazon), "dataCenterInfo.metadata"},
		{"XML nested deep inside metadata", "POST", "/eureka/apps/ORDERS", "application/xml", deepXML, "nested deeper than 32 levels"},
		{"metadata update with U+0001", "PUT", "/eureka/apps/ORDERS/" + springID + "/metadata?version=v2%01", "", "", "Invalid metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.contentType != "" {
				headers = []string{"Content-Type", tc.contentType}
			}
			code, _, body := env.do(tc.method, tc.path, tc.body, headers...)
			if code != http.StatusBadRequest || !strings.Contains(string(body), tc.wantText) {
				t.Errorf("status %d %.300q, want 400 naming %q", code, body, tc.wantText)
			}
			if got := env.store.Revision(); got != rev {
				t.Errorf("store changed: revision %d -> %d", rev, got)
			}
		})
	}
	for _, useJSON := range []bool{false, true} {
		conn := fargo.NewConn(env.url + "/eureka")
		conn.UseJson = useJSON
		apps, err := conn.GetApps()
		if err != nil {
			t.Fatalf("fargo (JSON %v) cannot read the registry: %v", useJSON, err)
		}
		if app := apps["ORDERS"]; app == nil || len(app.Instances) != 1 {
			t.Fatalf("fargo (JSON %v): want ORDERS with its one instance, got %+v", useJSON, apps)
		}
	}
}
