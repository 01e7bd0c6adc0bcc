package stub

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func compileYAML(t *testing.T, mapping string) *Stub {
	t.Helper()
	ms, err := Decode("m.yaml", []byte(mapping))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(ms[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func respond(s *Stub, r *Request) (*httptest.ResponseRecorder, Served) {
	w := httptest.NewRecorder()
	served := s.Respond(context.Background(), w, r)
	return w, served
}

func TestTemplates(t *testing.T) {
	r := request("POST", "https://api.example.com:8443/orders/42/items?q=a&q=b", `{"order":{"id":7,"lines":[1,2]},"name":"x"}`, "X-Trace", "t1", "X-Trace", "t2", "Cookie", "s=c1")
	r.Host, r.Scheme = "api.example.com:8443", "https"
	for _, tc := range []struct{ tmpl, want string }{
		{"{{request.url}}", "/orders/42/items?q=a&q=b"},
		{"{{request.path}}", "/orders/42/items"},
		{"{{request.path.[1]}} {{request.path.1}} {{request.pathSegments.[2]}}", "42 42 items"},
		{"{{request.path.[9]}}|", "|"},
		{"{{request.method}}", "POST"},
		{"{{request.query.q}} {{request.query.q.[1]}} {{request.query.q.last}} {{request.query.none}}|", "a b b |"},
		{"{{request.headers.X-Trace}} {{request.headers.[X-Trace].[1]}} {{request.headers.x-trace.first}}", "t1 t2 t1"},
		{"{{request.cookies.s}}", "c1"},
		{"{{request.scheme}}://{{request.host}}:{{request.port}} {{request.baseUrl}}", "https://api.example.com:8443 https://api.example.com:8443"},
		{"{{jsonPath request.body '$.order.id'}} {{jsonPath request.body '$.order'}}", `7 {"id":7,"lines":[1,2]}`},
		{"{{jsonPath request.body '$.missing' default='none'}}", "none"},
		{"{{{jsonpath this '$.name'}}}", "x"},
		{"{{ request.method }} and {{{request.method}}}", "POST and POST"},
		{"no expressions", "no expressions"},
	} {
		tp, err := parseTemplate(tc.tmpl)
		if err != nil {
			t.Errorf("%s: %v", tc.tmpl, err)
			continue
		}
		if got := tp.render(r); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
	for _, bad := range []string{"{{request.method", "{{#if request.body}}x{{/if}}", "{{randomValue length=3}}", "{{request.query}}", "{{jsonPath request.body $.a}}", "{{request.path.[x]}}", "{{jsonPath request.body '$[?(@.a =='}}"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// The YAML form's own fields: a sequence of responses, in turn or
// cycling; a fault with a share; an error status share; templating.
func TestYAMLFormResponses(t *testing.T) {
	for _, tc := range []struct{ name, mapping, want string }{
		{"sequence repeats the last", "responses: [{body: one}, {body: two}]", "one two two two"},
		{"sequence cycles", "sequence: cycle\nresponses: [{body: one}, {status: 500, body: two}]", "one two one two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := compileYAML(t, tc.mapping)
			var got []string
			for range 4 {
				w, _ := respond(s, request("GET", "/", ""))
				got = append(got, w.Body.String())
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("served %q, want %q", got, tc.want)
			}
			s.ResetSequence()
			if w, _ := respond(s, request("GET", "/", "")); w.Body.String() != "one" {
				t.Fatalf("after ResetSequence: %q", w.Body.String())
			}
		})
	}
	t.Run("an error status for a share of requests", func(t *testing.T) {
		s := compileYAML(t, "response: {body: ok, fault: {type: STATUS, status: 503, percent: 50}}")
		errors := 0
		const n = 2000
		for range n {
			w, served := respond(s, request("GET", "/", ""))
			if w.Code == http.StatusServiceUnavailable {
				errors++
				if served.Fault != FaultStatus {
					t.Fatalf("served %+v: the fault not recorded", served)
				}
			}
		}
		// 50% of 2000: outside 35%-65% has a chance far below 1e-40.
		if errors < n*35/100 || errors > n*65/100 {
			t.Fatalf("%d errors in %d, want about half", errors, n)
		}
	})
	t.Run("a fault that never happens", func(t *testing.T) {
		s := compileYAML(t, "response: {body: ok, fault: {type: CONNECTION_RESET_BY_PEER, percent: 0}}")
		if w, _ := respond(s, request("GET", "/", "")); w.Code != 200 || w.Body.String() != "ok" {
			t.Fatalf("%d %q", w.Code, w.Body.String())
		}
	})
	t.Run("template and a templated header", func(t *testing.T) {
		s := compileYAML(t, "response: {template: true, headers: {Location: '/orders/{{jsonPath request.body ''$.id''}}'}, body: 'hello {{request.query.name}}'}")
		w, _ := respond(s, request("POST", "/?name=ann", `{"id": 9}`))
		if w.Body.String() != "hello ann" || w.Header().Get("Location") != "/orders/9" {
			t.Fatalf("%q %v", w.Body.String(), w.Header())
		}
	})
	t.Run("no templating unless asked", func(t *testing.T) {
		s := compileYAML(t, "response: {body: '{{request.method}}'}")
		if w, _ := respond(s, request("GET", "/", "")); w.Body.String() != "{{request.method}}" {
			t.Fatalf("%q", w.Body.String())
		}
	})
	t.Run("no content type unless the stub names one", func(t *testing.T) {
		s := compileYAML(t, "response: {body: '<html></html>'}")
		if w, _ := respond(s, request("GET", "/", "")); w.Header()["Content-Type"] != nil && w.Header().Get("Content-Type") != "" {
			t.Fatalf("content type %q was sniffed", w.Header().Get("Content-Type"))
		}
	})
	t.Run("a delay ends with the request", func(t *testing.T) {
		s := compileYAML(t, "response: {delay: 1h, body: late}")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		w := httptest.NewRecorder()
		if served := s.Respond(ctx, w, request("GET", "/", "")); served.Status != 0 || w.Body.Len() != 0 {
			t.Fatalf("answered %+v after the request ended", served)
		}
	})
}

// A delay with jitter stays within its bounds; distributions too.
func TestDelaySamples(t *testing.T) {
	lower, upper := 15, 25
	median, sigma, most := 20.0, 1.0, 40.0
	for _, tc := range []struct {
		name   string
		d      delay
		lo, hi time.Duration
	}{
		{"fixed with jitter", delay{fixed: 100 * time.Millisecond, jitter: 20 * time.Millisecond}, 80 * time.Millisecond, 120 * time.Millisecond},
		{"jitter never below zero", delay{jitter: 20 * time.Millisecond}, 0, 20 * time.Millisecond},
		{"uniform", delay{dist: &DelayDistribution{Type: "uniform", Lower: &lower, Upper: &upper}}, 15 * time.Millisecond, 25 * time.Millisecond},
		{"lognormal under its maximum", delay{dist: &DelayDistribution{Type: "lognormal", Median: &median, Sigma: &sigma, MaxValue: &most}}, 0, 40 * time.Millisecond},
	} {
		for range 1000 {
			if got := tc.d.sample(); got < tc.lo || got > tc.hi {
				t.Fatalf("%s: %v outside [%v, %v]", tc.name, got, tc.lo, tc.hi)
			}
		}
	}
}
