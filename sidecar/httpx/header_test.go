package httpx

import (
	"strings"
	"testing"
)

func TestTrimOWS(t *testing.T) {
	for _, s := range []string{"", " ", "\t \t", "a", " a", "a\t", " \ta b\t ", "a \t b", "\u00a0a\u00a0", " é "} {
		if got, want := trimOWS(s), strings.Trim(s, " \t"); got != want {
			t.Errorf("trimOWS(%q) = %q, want %q", s, got, want)
		}
	}
}
