package runner

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A mock reads a copy of its stub folder under its data directory (a
// container has no other), every file in it; the container provider may
// run it.
func TestPlanMockReadsACopyOfItsStubs(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"mappings/charge.json": `{"request": {"url": "/charge"}}`, "__files/receipt.json": `{"ok": true}`} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := mustScenario(t, `
name: p
provider: container
topology:
  services:
    - name: payments
      versions: [{name: v1}]
  mocks:
    - {name: payments-mock, service: payments, stubs: `+dir+`}
steps:
  - wait: 1s
`)
	comps, err := plan(s, helpFlags(adapterHelp), true)
	if err != nil {
		t.Fatal(err)
	}
	var mock *Component
	for _, c := range comps {
		if c.Role == RoleMock {
			mock = c
		}
	}
	if mock == nil {
		t.Fatal("no mock planned")
	}
	if args := strings.Join(mock.Args(fakeNet{}), " "); !strings.Contains(args, "--stubs /data/payments-mock/stubs ") {
		t.Errorf("args %q do not read the stubs under the data directory", args)
	}
	want := map[string]string{
		"/data/payments-mock/stubs/mappings/charge.json": `{"request": {"url": "/charge"}}`,
		"/data/payments-mock/stubs/__files/receipt.json": `{"ok": true}`,
	}
	if got := mock.Files(fakeNet{}); !maps.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
}
