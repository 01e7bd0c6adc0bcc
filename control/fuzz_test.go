package control

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/registry"
)

// FuzzDecodeSpec: any bytes for any kind either decode to a spec that
// validates, or fail with an error that wraps ErrInvalid or ErrUnknownKind.
func FuzzDecodeSpec(f *testing.F) {
	f.Add(KindCanaryRule, `{"service":"orders","match":{"headers":[{"name":"x","exact":"1"}]},"selector":{"version":"v2"}}`)
	f.Add(KindTrafficSplit, `{"service":"orders","subsets":[{"labels":{"version":"v1"},"weight":90},{"labels":{"version":"v2"},"weight":10}]}`)
	f.Add(KindMirrorRule, `{"service":"orders","percent":10,"subset":{"shadow":"true"}}`)
	f.Add(KindServicePolicy, `{"service":"orders","timeout":"2s","retry":{"attempts":2,"retryOn":["503"]},"circuitBreaker":{"consecutiveFailures":5}}`)
	f.Add(KindAccessRule, `{"service":"orders","action":"allow","sources":["*"]}`)
	f.Add("Nope", `{}`)
	f.Fuzz(func(t *testing.T, kind, raw string) {
		spec, err := DecodeSpec(kind, json.RawMessage(raw))
		if err != nil {
			if !errors.Is(err, registry.ErrInvalid) && !errors.Is(err, ErrUnknownKind) {
				t.Fatalf("error %v wraps neither ErrInvalid nor ErrUnknownKind", err)
			}
			return
		}
		if err := spec.Validate(); err != nil {
			t.Fatalf("decoded spec does not validate: %v", err)
		}
	})
}

// FuzzRegisterBody sends arbitrary bodies to the register endpoint: the
// answer is 200 or a 4xx JSON error, never a 5xx or a panic, and a rejected
// body changes nothing.
func FuzzRegisterBody(f *testing.F) {
	f.Add(`{"id":"o-1","service":"orders","host":"10.0.0.1","port":8080}`)
	f.Add(`{"id":"o-1","service":"orders","host":"h","lease":{"duration":"90s"}}`)
	f.Add(`{"id":"","service":"orders"}`)
	f.Add(`[1,2,3]`)
	f.Add(`{"id":"x","service":"s","host":"h","lease":{"duration":-5}}`)
	fx := newFixture(f, ServerOptions{})
	h := NewServer(fx.store, ServerOptions{}).Handler()
	f.Fuzz(func(t *testing.T, body string) {
		before := fx.store.Revision()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/instances", strings.NewReader(body)))
		switch {
		case rec.Code == 200:
		case rec.Code >= 400 && rec.Code < 500:
			if fx.store.Revision() != before {
				t.Fatalf("rejected body (%d) changed the store", rec.Code)
			}
			var eb ErrorBody
			if json.Unmarshal(rec.Body.Bytes(), &eb) != nil || eb.Error.Code == "" {
				t.Fatalf("error answer is not the JSON error shape: %s", rec.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
