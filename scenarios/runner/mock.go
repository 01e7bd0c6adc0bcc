package runner

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// BinMockserver is the mock server's binary, run for topology.mocks.
const BinMockserver = "mockserver"

// RoleMock is a mockserver standing in for a service.
const RoleMock = "mock"

// mockComponent runs mockserver on a copy of the scenario's stub folder
// (in a container there is no other), registered in the mesh (the
// registry-adapter's control API) as m.Service with version m.Version and
// its own address: no sidecar in front.
func mockComponent(s *spec.Scenario, m *spec.Mock) *Component {
	c := &Component{Name: m.Name, Role: RoleMock, Binary: BinMockserver,
		Ports: []Port{{Name: "http", Container: 8080}}, Ready: Probe{Port: "http", Path: "/__admin/health"},
		Service: m.Service, Version: m.Version, Labels: map[string]string{"version": m.Version, "mock": "true"}}
	stubs := func(n Net) string { return path.Join(n.DataDir(c.Name), "stubs") }
	c.Args = func(n Net) []string {
		return []string{"--stubs", stubs(n), "--listen", n.Listen(c.Name, "http"), "--admin-listen=",
			"--service", m.Service, "--register", "mesh", "--mesh-url", "http://" + n.Dial(spec.ComponentRegistry, "control"),
			"--register-version", m.Version, "--advertise", n.Dial(c.Name, "http")}
	}
	c.Files = func(n Net) map[string]string { return copyOf(s.StubsDir(m), stubs(n)) }
	return c
}

// copyOf maps every regular file under dir to its place under to, with
// its content. A file that cannot be read is left out: the mock then
// reports what it lacks (a body file) when it loads, or serves without
// the mappings it held.
func copyOf(dir, to string) map[string]string {
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error { // never fails: errors are left out within
		if err != nil || !d.Type().IsRegular() {
			return nil // see above; folders come with their files
		}
		rel, relErr := filepath.Rel(dir, p)
		body, readErr := os.ReadFile(p)
		if relErr == nil && readErr == nil {
			out[path.Join(to, filepath.ToSlash(rel))] = string(body)
		}
		return nil
	})
	return out
}

// journalEntry is the part of a WireMock journal entry the check reads.
type journalEntry struct {
	Request struct {
		Headers map[string]any `json:"headers"` // a value is a string, or a list for several
	} `json:"request"`
	WasMatched  bool `json:"wasMatched"`
	StubMapping *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"stubMapping"`
}

// checkJournal counts the mock's journal entries that c selects.
func (r *run) checkJournal(ctx context.Context, c *spec.JournalCheck) (string, error) {
	addr, err := r.prov.HostAddr(ctx, c.Mock, "http")
	if err != nil {
		return "", err
	}
	var journal struct {
		Requests []journalEntry `json:"requests"`
		Dropped  uint64         `json:"dropped"`
	}
	if err := r.getJSON(ctx, "http://"+addr+"/__admin/requests", &journal); err != nil {
		return "", fmt.Errorf("%s's journal: %w", c.Mock, err)
	}
	if journal.Dropped > 0 {
		return "", fmt.Errorf("%s's journal dropped %d entries: the count would be short", c.Mock, journal.Dropped)
	}
	n := 0
	for _, e := range journal.Requests {
		if journalSelects(c, e) {
			n++
		}
	}
	msg := fmt.Sprintf("%d of the %d requests in %s's journal", n, len(journal.Requests), c.Mock)
	if c.Min != nil && n < *c.Min {
		return "", fmt.Errorf("%s, fewer than %d", msg, *c.Min)
	}
	if c.Max != nil && n > *c.Max {
		return "", fmt.Errorf("%s, more than %d", msg, *c.Max)
	}
	return msg, nil
}

func journalSelects(c *spec.JournalCheck, e journalEntry) bool {
	switch {
	case c.Stub == "unmatched":
		if e.WasMatched {
			return false
		}
	case c.Stub != "":
		if e.StubMapping == nil || (e.StubMapping.Name != c.Stub && e.StubMapping.ID != c.Stub) {
			return false
		}
	}
	for name, want := range c.Headers {
		if journalHeader(e.Request.Headers, name) != want {
			return false
		}
	}
	return true
}

// journalHeader is a logged header's value ("" when absent; several
// joined by commas), its name matched without regard to case.
func journalHeader(h map[string]any, name string) string {
	for k, v := range h {
		if http.CanonicalHeaderKey(k) != http.CanonicalHeaderKey(name) {
			continue
		}
		switch v := v.(type) {
		case string:
			return v
		case []any:
			parts := make([]string, 0, len(v))
			for _, p := range v {
				parts = append(parts, fmt.Sprint(p))
			}
			return strings.Join(parts, ",")
		}
	}
	return ""
}
