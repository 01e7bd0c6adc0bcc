package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/storetest"
)

func bg(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRestartRestoresEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := bg(t)
	s := openTest(t, dir)
	a, _ := s.Register(ctx, storetest.Instance("orders", "a"))
	if _, err := s.Register(ctx, storetest.Instance("orders", "b")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStatusOverride(ctx, a.Key(), registry.StatusOutOfService); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deregister(ctx, registry.NewInstanceKey("", "", "orders", "b")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutResource(ctx, &registry.Resource{Kind: "K", Name: "r", Spec: json.RawMessage(`{"x":1}`)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutKV(ctx, &registry.KV{Key: "cfg/a", Value: []byte("hello"), Flags: 3}, 0); err != nil {
		t.Fatal(err)
	}
	rev := s.Revision()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openTest(t, dir)
	defer s2.Close()
	if s2.Revision() != rev {
		t.Fatalf("revision %d after restart, want %d", s2.Revision(), rev)
	}
	got, err := s2.Get(ctx, a.Key())
	if err != nil || got.EffectiveStatus() != registry.StatusOutOfService || !got.Registered.Equal(a.Registered) {
		t.Fatalf("restored %+v, %v", got, err)
	}
	if _, err := s2.Get(ctx, registry.NewInstanceKey("", "", "orders", "b")); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("deregistered instance came back: %v", err)
	}
	if r, err := s2.GetResource(ctx, registry.ResourceKey{Kind: "K", Name: "r"}); err != nil || string(r.Spec) != `{"x":1}` {
		t.Fatalf("resource %+v, %v", r, err)
	}
	if kv, err := s2.GetKV(ctx, "cfg/a"); err != nil || string(kv.Value) != "hello" || kv.Flags != 3 {
		t.Fatalf("kv %+v, %v", kv, err)
	}
	// New writes continue the revision sequence.
	next, err := s2.Register(ctx, storetest.Instance("orders", "c"))
	if err != nil || next.Revision != rev+1 {
		t.Fatalf("next revision %d, want %d (%v)", next.Revision, rev+1, err)
	}
}

func TestSnapshotCompactsLogAndRestores(t *testing.T) {
	dir := t.TempDir()
	ctx := bg(t)
	s := openTest(t, dir, func(o *Options) { o.SnapshotBytes = 64 << 10 })
	for i := range 400 {
		if _, err := s.Register(ctx, storetest.Instance("orders", fmt.Sprint("o-", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		if _, err := s.Deregister(ctx, registry.NewInstanceKey("", "", "orders", fmt.Sprint("o-", i))); err != nil {
			t.Fatal(err)
		}
	}
	rev := s.Revision()
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, snapshotName)); err != nil {
		t.Fatalf("no snapshot written: %v", err)
	}
	if st, _ := os.Stat(filepath.Join(dir, walName)); st.Size() >= 64<<10 {
		t.Fatalf("log was not truncated: %d bytes", st.Size())
	}
	s2 := openTest(t, dir)
	defer s2.Close()
	list, _, _ := s2.List(ctx, registry.Filter{})
	if len(list) != 300 || s2.Revision() != rev {
		t.Fatalf("restored %d instances at revision %d, want 300 at %d", len(list), s2.Revision(), rev)
	}
}

func TestTornTailIsDropped(t *testing.T) {
	dir := t.TempDir()
	ctx := bg(t)
	s := openTest(t, dir)
	for i := range 3 {
		if _, err := s.Register(ctx, storetest.Instance("orders", fmt.Sprint("o-", i))); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// A crash in the middle of a write leaves half a record at the end.
	f, err := os.OpenFile(filepath.Join(dir, walName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, '{', '"'})
	f.Close()
	s2 := openTest(t, dir)
	list, _, _ := s2.List(ctx, registry.Filter{})
	if len(list) != 3 {
		t.Fatalf("restored %d, want 3", len(list))
	}
	// The log is usable after the truncation.
	if _, err := s2.Register(ctx, storetest.Instance("orders", "after")); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s3 := openTest(t, dir)
	defer s3.Close()
	if list, _, _ := s3.List(ctx, registry.Filter{}); len(list) != 4 {
		t.Fatalf("after second restart %d, want 4", len(list))
	}
}

func TestDataDirIsLocked(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	_, err := Open(Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
}

func TestCorruptSnapshotRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, snapshotName), []byte{9, 0, 0, 0, 1, 1, 1, 1, 'x'}, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("open with a corrupt snapshot: %v", err)
	}
}

// FuzzReadRecords feeds arbitrary bytes to the log reader: it must never
// panic or loop, and must keep only whole, checksummed records.
func FuzzReadRecords(f *testing.F) {
	var valid []byte
	for i := range 2 {
		e := registry.Event{Revision: int64(i + 1), Type: registry.EventPut, Kind: registry.KindKV, KV: &registry.KV{Key: "k", Value: []byte("v")}}
		valid, _ = appendRecord(valid, &e)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add([]byte{})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		good, _, err := decodeRecords(bytes.NewReader(data), func(*registry.Event) error { n++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if good < 0 || good > int64(len(data)) || (n == 0 && good != 0) {
			t.Fatalf("good offset %d of %d with %d records", good, len(data), n)
		}
	})
}
