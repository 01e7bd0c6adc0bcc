package sidecar

import (
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/meshbridge/meshbridge/sidecar/config"
)

// The config sets GOGC unless the environment did; the environment wins.
func TestApplyRuntime(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	quiet := slog.New(slog.DiscardHandler)
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	ApplyRuntime(config.Runtime{GCPercent: 250}, getenv, quiet)
	if got := debug.SetGCPercent(100); got != 250 {
		t.Errorf("GOGC %d after applying 250", got)
	}
	env["GOGC"] = "50"
	ApplyRuntime(config.Runtime{GCPercent: 250}, getenv, quiet)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC %d, want the value the environment gave left alone (100 here)", got)
	}
}
