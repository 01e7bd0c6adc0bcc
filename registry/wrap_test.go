package registry

import "testing"

type preserving struct{ Store }

func (preserving) SelfPreserving() bool { return true }

type decorating struct{ Store }

func (d decorating) Unwrap() Store { return d.Store }

type hiding struct{ Store }

func TestAsLooksThroughDecorators(t *testing.T) {
	inner := preserving{}
	if sp, ok := As[SelfPreservation](decorating{decorating{inner}}); !ok || !sp.SelfPreserving() {
		t.Error("SelfPreservation not found beneath two decorators")
	}
	if _, ok := As[SelfPreservation](hiding{inner}); ok {
		t.Error("found through a store that does not unwrap")
	}
	if _, ok := As[Elector](decorating{inner}); ok {
		t.Error("found a capability no store has")
	}
}
