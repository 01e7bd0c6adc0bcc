package apptest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/config/configtest"
)

// HelpAndVersion checks the flags every binary has: --version prints
// "<name> ..." and exits 0; --help exits 0 and shows each of helpShows
// (a flag, a default); an unknown flag is a usage error.
func HelpAndVersion(t *testing.T, r app.Runner, name string, helpShows ...string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := app.Run(context.Background(), r, []string{"--version"}, &out, &errOut); code != app.ExitOK || !strings.HasPrefix(out.String(), name+" ") {
		t.Fatalf("--version: %d %q", code, out.String())
	}
	out.Reset()
	if code := app.Run(context.Background(), r, []string{"--help"}, &out, &errOut); code != app.ExitOK {
		t.Fatalf("--help: exit %d %q", code, errOut.String())
	}
	for _, s := range helpShows {
		if !strings.Contains(errOut.String(), s) {
			t.Fatalf("--help does not show %q: %q", s, errOut.String())
		}
	}
	errOut.Reset()
	if code := app.Run(context.Background(), r, []string{"--bogus"}, &out, &errOut); code != app.ExitUsage {
		t.Fatalf("unknown flag: exit %d, want %d", code, app.ExitUsage)
	}
}

// RejectsBadConfig runs r with --config on every testdata/*.bad.yaml
// (configtest's convention), plus args, and checks that it ends with a
// usage error whose message holds the fixture's "# want:" text.
func RejectsBadConfig(t *testing.T, r app.Runner, args ...func(t *testing.T) []string) {
	t.Helper()
	configtest.RejectsBad(t, func(t *testing.T, path string) error {
		var out, errOut bytes.Buffer
		argv := []string{"--config", path}
		for _, a := range args {
			argv = append(argv, a(t)...)
		}
		if code := app.Run(context.Background(), r, argv, &out, &errOut); code != app.ExitUsage {
			t.Fatalf("exit %d, want %d; stderr %q", code, app.ExitUsage, errOut.String())
		}
		return errors.New(errOut.String())
	})
}
