package keepalive

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

func TestCopies(t *testing.T) {
	k := New(time.Hour, 1, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	c := NewCopies[string](k)
	want := &registry.Instance{ID: "a", Service: "orders"}
	if !c.Hold("a", "reg-a", want) {
		t.Fatal("hold refused before Close")
	}
	always := func(string) bool { return true }
	if got := c.Adopt("a", "found-a", always); got == nil || got.ID != "a" || got == want {
		t.Errorf("adopting a held copy the registry holds as written: %v, want a clone of what was put", got)
	}
	if got := c.Adopt("a", "found-a", func(string) bool { return false }); got != nil {
		t.Errorf("adopting a held copy the registry holds otherwise: %v, want nil", got)
	}
	if got := c.Adopt("b", "found-b", always); got != nil {
		t.Errorf("adopting a new copy: %v, want nil", got)
	}
	b, _ := c.Get("b")
	if b.Put || b.Reg != "found-b" || !k.Held("b") {
		t.Errorf("adopted copy %+v (held %v); want renewed, not put", b, k.Held("b"))
	}
	if got := c.Adopt("b", "found-b", always); got != nil {
		t.Errorf("adopting an adopted copy again: %v, want nil (nothing was put)", got)
	}
	c.Hold("b", "reg-b", want) // put since: ForgetGone of the adopted one leaves it
	c.ForgetGone("b", b)
	if _, ok := c.Get("b"); !ok {
		t.Error("ForgetGone dropped a copy put again since")
	}
	c.Forget("a")
	if _, ok := c.Get("a"); ok || k.Held("a") {
		t.Error("Forget left the copy held")
	}
	held := c.Close()
	if len(held) != 1 || held["b"] == nil || c.Close() != nil || c.Hold("c", "reg-c", want) || !c.Closed() {
		t.Errorf("close: %v; want b once, then nothing held or holdable", held)
	}
}
