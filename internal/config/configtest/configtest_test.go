package configtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/internal/config"
)

// RejectsBad over this package's own testdata, with the strict loader
// every binary uses.
func TestRejectsBad(t *testing.T) {
	RejectsBad(t, func(_ *testing.T, path string) error {
		var cfg struct {
			Service struct {
				Ports int `yaml:"ports"`
			} `yaml:"service"`
		}
		return config.Load(path, &cfg)
	})
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		loadErr    error
		want       string // in check's error; "" for none
	}{
		{"the wanted error", "testdata/unknown-key.bad.yaml", errors.New(`config: line 3: unknown key "prots"`), ""},
		{"accepted", "testdata/unknown-key.bad.yaml", nil, "accepted"},
		{"another error", "testdata/unknown-key.bad.yaml", errors.New("line 2: bad"), "does not contain"},
		{"no want line", "testdata/malformed/no-want.yaml", errors.New("x"), "must start with"},
		{"an empty want", "testdata/malformed/empty-want.yaml", errors.New("x"), "must start with"},
		{"no file", "testdata/missing.bad.yaml", errors.New("x"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := check(tc.path, tc.loadErr)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("check = %v, want %q", err, tc.want)
			}
		})
	}
}
