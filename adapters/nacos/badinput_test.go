package nacos_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestRegisterRefusesWhatViewsCannotCarry: registrations over v1 HTTP
// holding what some view of the registry cannot carry are refused with
// Nacos's 400 and change nothing (gRPC: TestGRPCBadInputAnsweredAsNacosAndChangesNothing).
// Each used to be stored, but for an ip with control characters, which the
// instance id made from it got refused for.
func TestRegisterRefusesWhatViewsCannotCarry(t *testing.T) {
	e := startEnv(t, testOptions())
	rev := e.store.Revision()
	form := func(change func(url.Values)) string {
		v := url.Values{"serviceName": {"orders"}, "ip": {"10.0.0.1"}, "port": {"8080"}}
		change(v)
		return v.Encode()
	}
	for _, tc := range []struct {
		name, form, wantBody string
	}{
		{"ip with U+0001", form(func(v url.Values) { v.Set("ip", "10.0.0.1\x01") }), "'ip' is illegal"},
		{"ip with CRLF", form(func(v url.Values) { v.Set("ip", "h\r\nX-Injected: 1") }), "'ip' is illegal"},
		{"ip with a space", form(func(v url.Values) { v.Set("ip", "10.0.0.1 x") }), "'ip' is illegal"},
		{"service with U+FFFE", form(func(v url.Values) { v.Set("serviceName", "orders\uFFFE") }), "serviceName"},
		{"metadata value with U+0001", form(func(v url.Values) { v.Set("metadata", `{"version":"v\u0001"}`) }), "metadata.version"},
		{"group ending in @", form(func(v url.Values) { v.Set("groupName", "grp@") }), "group"},
	} {
		t.Run("http "+tc.name, func(t *testing.T) {
			code, body := do(t, e, "POST", "/nacos/v1/ns/instance", tc.form, nil)
			if code != 400 || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("got %d %q, want 400 naming %q", code, body, tc.wantBody)
			}
		})
	}
	if got := e.store.Revision(); got != rev {
		t.Fatalf("refused registrations changed the store: revision %d -> %d", rev, got)
	}
}
