package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/meshbridge/meshbridge/scenarios/process"
)

func runMain(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut, "test")
	return code, out.String(), errOut.String()
}

func TestValidate(t *testing.T) {
	code, out, _ := runMain("validate", "../canary-by-header.yaml", "../weighted-split.yaml")
	if code != ExitOK || strings.Count(out, " ok (") != 2 {
		t.Fatalf("validate shipped: %d %q", code, out)
	}
	code, _, errOut := runMain("validate", "../spec/testdata/bad-rule.bad.yaml")
	if code != ExitFailed || !strings.Contains(errOut, "spec.match.headers[0]") {
		t.Fatalf("validate bad: %d %q", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"run"}, {"run", "--nope", "x.yaml"}, {"run", "missing.yaml"}} {
		if code, _, _ := runMain(args...); code != ExitUsage {
			t.Fatalf("%v: exit %d, want %d", args, code, ExitUsage)
		}
	}
	if code, out, _ := runMain("version"); code != ExitOK || out != "scenario test\n" {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestRunReportsAnUnknownProviderAndASkip(t *testing.T) {
	dir := t.TempDir()
	junit, js := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.json")
	code, out, _ := runMain("run", "--quiet", "--provider", "vm", "--junit", junit, "--json", js, "../canary-by-header.yaml")
	if code != ExitFailed || !strings.Contains(out, `provider "vm" is not built into this runner`) || strings.Contains(out, "HTML report") {
		t.Fatalf("unknown provider: %d %q", code, out)
	}
	// Prebuilt binaries that are not there: the scenario is skipped, which
	// does not fail the run, and the reports say so.
	htmlDir := filepath.Join(dir, "html")
	code, out, _ = runMain("run", "--quiet", "--bin", dir, "--junit", junit, "--json", js, "--html", htmlDir, "../canary-by-header.yaml")
	page := filepath.Join(htmlDir, "canary-by-header.html")
	if code != ExitOK || !strings.Contains(out, "SKIPPED  canary-by-header") || !strings.Contains(out, "HTML report: "+page+"\n") {
		t.Fatalf("missing binaries: %d %q", code, out)
	}
	if x, err := os.ReadFile(page); err != nil || !strings.Contains(string(x), "registry-adapter unavailable") {
		t.Fatalf("html: %v %s", err, x)
	}
	x, _ := os.ReadFile(junit)
	if !strings.Contains(string(x), `skipped="1"`) || !strings.Contains(string(x), "registry-adapter unavailable") {
		t.Fatalf("junit: %s", x)
	}
	var rep struct {
		Results []struct{ Name, Status string }
	}
	b, _ := os.ReadFile(js)
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Results) != 1 || rep.Results[0].Status != "skipped" {
		t.Fatalf("json: %v %s", err, b)
	}
}
