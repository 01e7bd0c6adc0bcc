package kinds

import (
	"slices"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := New[int]("test part")
	r.Register("b", 2)
	r.Register("a", 1)
	if got := r.Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Names() = %v, want [a b]", got)
	}
	if got := r.All(); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("All() = %v, want [1 2] (in name order)", got)
	}
	if k, ok := r.Lookup("b"); !ok || k != 2 {
		t.Errorf("Lookup(b) = %v, %v; want 2, true", k, ok)
	}
	if _, ok := r.Lookup("c"); ok {
		t.Errorf("Lookup(c) found a part nobody registered")
	}
}

func TestRegisterPanics(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"", `test part registered without a name`},
		{"a", `test part "a" registered twice`},
	} {
		r := New[int]("test part")
		r.Register("a", 1)
		func() {
			defer func() {
				if got := recover(); got != tc.want {
					t.Errorf("Register(%q) panicked with %v, want %q", tc.name, got, tc.want)
				}
			}()
			r.Register(tc.name, 2)
		}()
	}
}
