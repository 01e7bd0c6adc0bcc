package eureka

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/registry"
)

func readDoc(t *testing.T, name string) []byte {
	t.Helper()
	body, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// fargoDoc is body as fargo decodes it, with the actionType of each
// instance, to compare decodeDocument with.
func fargoDoc(t testing.TB, body []byte) ([]*fargo.Application, map[instanceKey]string) {
	t.Helper()
	var r fargo.GetAppsResponseJson
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	actions := map[instanceKey]string{}
	var raw struct {
		Applications struct {
			Application []struct {
				Name     string
				Instance []struct{ InstanceID, ActionType string }
			}
		}
	}
	if json.Unmarshal(body, &raw) == nil {
		for _, a := range raw.Applications.Application {
			for _, in := range a.Instance {
				actions[instanceKey{a.Name, in.InstanceID}] = in.ActionType
			}
		}
	}
	return r.Response.Applications, actions
}

// TestDecodeDocumentReadsWhatFargoReads: the one-pass decoder gives the
// apps and instances fargo's own types give, for arrays and for the
// single objects Eureka writes in their place, and the hashcode and
// actions besides.
func TestDecodeDocumentReadsWhatFargoReads(t *testing.T) {
	for _, tc := range []struct {
		file, hash string
		actions    map[instanceKey]string
	}{
		{"delta-arrays.json", "UP_2_", map[instanceKey]string{
			{"ORDERS", "orders-1"}: "ADDED", {"ORDERS", "orders-2"}: "DELETED", {"PAY", "pay-1"}: "MODIFIED"}},
		{"delta-single.json", "UP_1_", map[instanceKey]string{{"ORDERS", "orders-1"}: "ADDED"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body := readDoc(t, tc.file)
			doc, _, err := decodeDocument(body, nil)
			if err != nil {
				t.Fatal(err)
			}
			apps, _ := fargoDoc(t, body)
			if !reflect.DeepEqual(doc.apps, apps) {
				t.Errorf("apps differ from fargo's:\n got %s\nwant %s", dump(doc.apps), dump(apps))
			}
			if doc.hash != tc.hash || !reflect.DeepEqual(doc.actions, tc.actions) {
				t.Errorf("hash %q, actions %v; want %q, %v", doc.hash, doc.actions, tc.hash, tc.actions)
			}
		})
	}
}

func dump(apps []*fargo.Application) string {
	var b strings.Builder
	for _, a := range apps {
		fmt.Fprintf(&b, "%s:", a.Name)
		for _, in := range a.Instances {
			fmt.Fprintf(&b, " %+v", *in)
		}
		b.WriteString("; ")
	}
	return b.String()
}

// TestDecodeDocumentReusesOnlySameBytes: an instance whose bytes are the
// same as in the document seen is not decoded again (the same value is
// returned); one whose bytes changed is, and shows its change.
func TestDecodeDocumentReusesOnlySameBytes(t *testing.T) {
	body := readDoc(t, "delta-arrays.json")
	first, seen, err := decodeDocument(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Replace(body, []byte(`"status":"DOWN"`), []byte(`"status":"UP"`), 1)
	second, _, err := decodeDocument(changed, seen)
	if err != nil {
		t.Fatal(err)
	}
	if second.apps[0].Instances[0] != first.apps[0].Instances[0] {
		t.Error("orders-1, unchanged, was decoded again")
	}
	if got := second.apps[1].Instances[0]; got == first.apps[1].Instances[0] || got.Status != fargo.UP {
		t.Errorf("pay-1, changed to UP: status %s (same value as before: %v)", got.Status, got == first.apps[1].Instances[0])
	}
}

// TestDecodeDocumentRefusesBrokenDocuments: what fargo could not read,
// or reads as nothing, is an error, never an empty registry.
func TestDecodeDocumentRefusesBrokenDocuments(t *testing.T) {
	for _, body := range []string{
		``, `{`, `[]`, `{}`, `{"applications":null}`, `{"applications":{"application":[null]}}`,
		`{"applications":{"application":[{"name":"A","instance":[null]}]}}`,
		`{"applications":{"application":[{"name":"A","instance":[{"instanceId":"a-1","port":{"$":"x"}}]}]}}`,
		`{"applications":{"apps__hashcode":1}}`, `{"applications":{}} {}`,
	} {
		if doc, _, err := decodeDocument([]byte(body), nil); err == nil {
			t.Errorf("%s: decoded to %+v; want an error", body, doc)
		}
	}
}

// BenchmarkDecodeDelta decodes the stand-in's delta after 10,000
// registrations (its three minutes hold them all): "first" with nothing
// seen, every instance decoded with fargo's types; "again" with the
// previous poll's instances, as the source polls.
func BenchmarkDecodeDelta(b *testing.B) {
	store := adaptertest.Store(b)
	fe, err := eurekafe.New(store, eurekafe.Options{Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	srv := adaptertest.Start(b, store, adaptertest.Frontend{Handler: fe.Handler(), Run: []func(context.Context) error{fe.Run}})
	for i := range 10000 {
		svc := fmt.Sprintf("svc-%04d", i%1000)
		inst := &registry.Instance{Service: svc, ID: fmt.Sprintf("%s-%d", svc, i/1000), Host: fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255),
			Port: 8080, Metadata: map[string]string{"version": "v1"}}
		if _, err := store.Register(context.Background(), inst); err != nil {
			b.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/eureka/"+deltaPath, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("delta of %d bytes", len(body))
	// fargo's own types and a second pass for the actions, as the source
	// read every delta before.
	b.Run("fargo", func(b *testing.B) {
		for b.Loop() {
			fargoDoc(b, body)
		}
	})
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := decodeDocument(body, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	_, seen, err := decodeDocument(body, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("again", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := decodeDocument(body, seen); err != nil {
				b.Fatal(err)
			}
		}
	})
}
