package embedded

import (
	"context"
	"testing"

	"github.com/meshbridge/meshbridge/registry"
)

// The embedded store has one process: it leads at once, until resign or ctx.
func TestLeadIsImmediate(t *testing.T) {
	var el registry.Elector = openTest(t, t.TempDir())
	if el.Shared() {
		t.Fatal("embedded store should not say it is shared")
	}
	ctx, cancel := context.WithCancel(context.Background())
	lead, resign, err := el.Lead(ctx, "job")
	if err != nil || lead.Err() != nil {
		t.Fatalf("Lead = %v, %v", lead, err)
	}
	resign()
	if lead.Err() == nil {
		t.Fatal("leadership context open after resign")
	}
	cancel()
	if _, _, err := el.Lead(ctx, "job"); err == nil {
		t.Fatal("Lead with an ended context should fail")
	}
}
