package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// The client's KV calls round-trip through the server: flags kept, listing
// by prefix with the store revision, keys that a URL would otherwise
// clean or cut ("a//b", "..", "?") stored exactly as given.
func TestKVClientRoundTrip(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	ctx := testCtx(t)
	odd := []string{"cfg/a//b", "cfg/a/../b", "cfg/./x", "cfg/sp ace?q=1#frag%2F", ".", ".."}
	for i, k := range odd {
		got, err := f.client.PutKV(ctx, &registry.KV{Key: k, Value: []byte{byte(i)}, Flags: uint64(i + 1)}, -1)
		if err != nil {
			t.Fatalf("put %q: %v", k, err)
		}
		if got.Key != k || got.Flags != uint64(i+1) || got.Revision == 0 {
			t.Fatalf("put %q answered %+v", k, got)
		}
		if back, err := f.client.GetKV(ctx, k); err != nil || back.Key != k || back.Value[0] != byte(i) {
			t.Fatalf("get %q = %+v, %v", k, back, err)
		}
		if st, err := f.store.GetKV(ctx, k); err != nil || st.Flags != uint64(i+1) {
			t.Fatalf("store has %q as %+v, %v", k, st, err)
		}
	}
	list, rev, err := f.client.ListKV(ctx, "cfg/")
	if err != nil || len(list) != 4 || rev != f.store.Revision() {
		t.Fatalf("list cfg/ = %d entries at %d, %v; want 4 at %d", len(list), rev, err, f.store.Revision())
	}
	if list[0].Key != "cfg/./x" || list[3].Key != "cfg/sp ace?q=1#frag%2F" {
		t.Fatalf("list not sorted by key: %q ... %q", list[0].Key, list[3].Key)
	}
	if none, _, err := f.client.ListKV(ctx, "nothing/"); err != nil || none == nil || len(none) != 0 {
		t.Fatalf("empty list = %#v, %v; want an empty, non-nil list", none, err)
	}
	n, err := f.client.DeleteKVPrefix(ctx, "cfg/a/.")
	if err != nil || n != 1 {
		t.Fatalf("delete prefix cfg/a/. = %d, %v; want 1 (only cfg/a/../b)", n, err)
	}
	old, err := f.client.DeleteKV(ctx, "cfg/a//b", -1)
	if err != nil || old.Key != "cfg/a//b" || old.Flags != 1 {
		t.Fatalf("delete = %+v, %v", old, err)
	}
	if _, err := f.client.GetKV(ctx, "cfg/a//b"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("get deleted key: %v", err)
	}
	if _, err := f.client.DeleteKV(ctx, "cfg/a//b", -1); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("delete missing key: %v", err)
	}
	if n, err := f.client.DeleteKVPrefix(ctx, ""); err != nil || n != 4 {
		t.Fatalf("delete everything = %d, %v; want 4", n, err)
	}
}

// Compare-and-set answers 409 conflict (errors.Is ErrConflict) and leaves
// the key as it was, for puts and deletes alike.
func TestKVCompareAndSet(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	ctx := testCtx(t)
	a, err := f.client.PutKV(ctx, &registry.KV{Key: "k", Value: []byte("1")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.PutKV(ctx, &registry.KV{Key: "k", Value: []byte("x")}, 0); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("second create-only put: %v", err)
	}
	var se *StatusError
	b, err := f.client.PutKV(ctx, &registry.KV{Key: "k", Value: []byte("2")}, a.Revision)
	if err != nil || b.CreateRevision != a.Revision || b.Revision <= a.Revision {
		t.Fatalf("cas put = %+v, %v", b, err)
	}
	_, err = f.client.PutKV(ctx, &registry.KV{Key: "k", Value: []byte("x")}, a.Revision)
	if !errors.As(err, &se) || se.Status != http.StatusConflict || !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("stale cas put: %v", err)
	}
	if _, err := f.client.PutKV(ctx, &registry.KV{Key: "absent", Value: []byte("x")}, a.Revision); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("cas put of a missing key: %v", err)
	}
	if _, err := f.client.DeleteKV(ctx, "k", a.Revision); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("stale cas delete: %v", err)
	}
	if got, err := f.store.GetKV(ctx, "k"); err != nil || string(got.Value) != "2" || got.Revision != b.Revision {
		t.Fatalf("after lost cas: %+v, %v; want value 2 at %d", got, err, b.Revision)
	}
	if _, err := f.store.GetKV(ctx, "absent"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("lost create made the key: %v", err)
	}
	if _, err := f.client.DeleteKV(ctx, "k", b.Revision); err != nil {
		t.Fatalf("cas delete at the current revision: %v", err)
	}
}

func TestKVBadInputChangesNothing(t *testing.T) {
	f := newFixture(t, ServerOptions{MaxBodyBytes: 800 << 10})
	ctx := testCtx(t)
	if _, err := f.store.PutKV(ctx, &registry.KV{Key: "keep/a", Value: []byte("a")}, -1); err != nil {
		t.Fatal(err)
	}
	before := f.store.Revision()
	overValue := `{"value":"` + strings.Repeat("QUFB", (registry.MaxKVValue+3)/3) + `"}` // decodes to just over 512 KiB
	overBody := `{"value":"` + strings.Repeat("QUFB", 300<<10) + `"}`                    // 1.2 MB of JSON
	cases := []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"malformed json", "PUT", "/api/v1/kv/keep/a", `{"value":`, 400, CodeInvalid, "body"},
		{"unknown field", "PUT", "/api/v1/kv/keep/a", `{"value":"YQ==","ttl":5}`, 400, CodeInvalid, "body"},
		{"value not base64", "PUT", "/api/v1/kv/keep/a", `{"value":"%%%"}`, 400, CodeInvalid, "body"},
		{"empty body", "PUT", "/api/v1/kv/keep/a", ``, 400, CodeInvalid, "body"},
		{"value over 512 KiB", "PUT", "/api/v1/kv/keep/a", overValue, 400, CodeInvalid, "value"},
		{"body over the limit", "PUT", "/api/v1/kv/keep/a", overBody, 413, CodeTooLarge, ""},
		{"key too long", "PUT", "/api/v1/kv/" + strings.Repeat("k", 1025), `{"value":"YQ=="}`, 400, CodeInvalid, "key"},
		{"put without key", "PUT", "/api/v1/kv/", `{"value":"YQ=="}`, 400, CodeInvalid, "key"},
		{"put to a prefix", "PUT", "/api/v1/kv/keep/?prefix=true", `{"value":"YQ=="}`, 400, CodeInvalid, "prefix"},
		{"bad expect", "PUT", "/api/v1/kv/keep/a?expect=-3", `{"value":"YQ=="}`, 400, CodeInvalid, "expect"},
		{"bad prefix flag", "DELETE", "/api/v1/kv/keep/?prefix=yes", ``, 400, CodeInvalid, "prefix"},
		{"prefix delete with expect", "DELETE", "/api/v1/kv/keep/?prefix=true&expect=2", ``, 400, CodeInvalid, "expect"},
		{"delete without key", "DELETE", "/api/v1/kv/", ``, 400, CodeInvalid, "key"},
		{"get without key", "GET", "/api/v1/kv/", ``, 400, CodeInvalid, "key"},
		{"missing key", "GET", "/api/v1/kv/keep/b", ``, 404, CodeNotFound, ""},
		{"stale cas", "PUT", "/api/v1/kv/keep/a?expect=999", `{"value":"YQ=="}`, 409, CodeConflict, ""},
		{"create-only over a key", "PUT", "/api/v1/kv/keep/a?expect=0", `{"value":"YQ=="}`, 409, CodeConflict, ""},
		{"wrong method", "POST", "/api/v1/kv/keep/a", `{}`, 405, CodeMethodNotAllowed, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, ctype, eb := raw(t, tc.method, f.server.URL+tc.path, tc.body, map[string]string{"Content-Type": "application/json"})
			if status != tc.status || eb.Error.Code != tc.code || ctype != "application/json" {
				t.Fatalf("got %d %q %s (%s), want %d %q", status, eb.Error.Code, ctype, eb.Error.Message, tc.status, tc.code)
			}
			if eb.Error.Field != tc.field {
				t.Fatalf("field %q, want %q (%s)", eb.Error.Field, tc.field, eb.Error.Message)
			}
		})
	}
	if f.store.Revision() != before {
		t.Fatalf("bad input changed the store: revision %d -> %d", before, f.store.Revision())
	}
	if got, err := f.store.GetKV(ctx, "keep/a"); err != nil || string(got.Value) != "a" {
		t.Fatalf("keep/a = %+v, %v", got, err)
	}
}

func TestKVTokenGuardsWrites(t *testing.T) {
	f := newFixture(t, ServerOptions{Token: "s3cret"})
	ctx := testCtx(t)
	if _, err := f.client.PutKV(ctx, &registry.KV{Key: "cfg/a", Value: []byte("a")}, -1); err != nil {
		t.Fatalf("write with token: %v", err)
	}
	before := f.store.Revision()
	anon, _ := NewClient(f.server.URL, WithRetries(0, 0))
	writes := map[string]func() error{
		"put": func() error {
			_, err := anon.PutKV(ctx, &registry.KV{Key: "cfg/a", Value: []byte("x")}, -1)
			return err
		},
		"cas put":       func() error { _, err := anon.PutKV(ctx, &registry.KV{Key: "cfg/b", Value: []byte("x")}, 0); return err },
		"delete":        func() error { _, err := anon.DeleteKV(ctx, "cfg/a", -1); return err },
		"delete prefix": func() error { _, err := anon.DeleteKVPrefix(ctx, "cfg/"); return err },
	}
	for name, write := range writes {
		if err := write(); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s without token: %v; want unauthorized", name, err)
		}
	}
	if f.store.Revision() != before {
		t.Fatal("unauthorized KV writes changed the store")
	}
	if got, err := anon.GetKV(ctx, "cfg/a"); err != nil || string(got.Value) != "a" {
		t.Fatalf("read without token = %+v, %v; reads stay open", got, err)
	}
	if list, _, err := anon.ListKV(ctx, "cfg/"); err != nil || len(list) != 1 {
		t.Fatalf("list without token = %v, %v", list, err)
	}
}

// KV changes come out of the watch endpoint, long-poll and stream, with the
// key filter applied: puts carry the new entry and the previous one, deletes
// the entry as it was.
func TestKVWatch(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	ctx := testCtx(t)
	filter := registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindKV}, KeyPrefix: "cfg/"}
	start, err := f.client.WatchOnce(ctx, 0, time.Second, filter)
	if err != nil {
		t.Fatal(err)
	}
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	q := WatchQuery(filter)
	q.Set("index", "0")
	q.Set("stream", "true")
	req, _ := http.NewRequestWithContext(streamCtx, http.MethodGet, f.server.URL+"/api/v1/watch?"+q.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	a, _ := f.client.PutKV(ctx, &registry.KV{Key: "cfg/a", Value: []byte("1")}, -1)
	_, _ = f.client.PutKV(ctx, &registry.KV{Key: "other", Value: []byte("x")}, -1) // filtered out
	b, _ := f.client.PutKV(ctx, &registry.KV{Key: "cfg/a", Value: []byte("2")}, a.Revision)
	if _, err := f.client.DeleteKV(ctx, "cfg/a", -1); err != nil {
		t.Fatal(err)
	}
	check := func(how string, events []registry.Event) {
		t.Helper()
		if len(events) != 3 {
			t.Fatalf("%s: %d events, want 3: %+v", how, len(events), events)
		}
		put, update, del := events[0], events[1], events[2]
		if put.Type != registry.EventPut || put.Kind != registry.KindKV || string(put.KV.Value) != "1" || put.PrevKV != nil {
			t.Errorf("%s: create event %+v", how, put)
		}
		if update.Revision != b.Revision || string(update.KV.Value) != "2" || update.PrevKV == nil || string(update.PrevKV.Value) != "1" {
			t.Errorf("%s: update event %+v", how, update)
		}
		if del.Type != registry.EventDelete || del.KV.Key != "cfg/a" || string(del.KV.Value) != "2" || del.Revision <= b.Revision {
			t.Errorf("%s: delete event %+v", how, del)
		}
	}

	var polled []registry.Event
	index := start.Index
	for len(polled) < 3 && ctx.Err() == nil {
		res, err := f.client.WatchOnce(ctx, index, 5*time.Second, filter)
		if err != nil {
			t.Fatal(err)
		}
		polled, index = append(polled, res.Events...), res.Index
	}
	check("long-poll", polled)

	var streamed []registry.Event
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for len(streamed) < 3 && sc.Scan() {
		var e registry.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("stream line %q: %v", sc.Text(), err)
		}
		if e.Kind != "" { // heartbeats carry only an index
			streamed = append(streamed, e)
		}
	}
	check("stream", streamed)
}
