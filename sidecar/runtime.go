package sidecar

import (
	"log/slog"
	"runtime"
	"runtime/debug"

	"github.com/meshbridge/meshbridge/sidecar/config"
)

// ApplyRuntime sets the process's garbage collector target, memory limit
// and GOMAXPROCS from cfg, leaving each one whose environment variable
// (GOGC, GOMEMLIMIT, GOMAXPROCS, read through getenv) is set to the Go
// runtime, which already applied it. It is process-wide: the binary calls
// it once at start; sidecars built in tests leave the runtime alone.
func ApplyRuntime(cfg config.Runtime, getenv func(string) string, logger *slog.Logger) {
	if v := getenv("GOGC"); v != "" {
		logger.Debug("go runtime: GOGC from the environment", "gogc", v)
	} else {
		debug.SetGCPercent(cfg.GCPercent)
	}
	if v := getenv("GOMEMLIMIT"); v != "" {
		logger.Debug("go runtime: GOMEMLIMIT from the environment", "gomemlimit", v)
	} else if cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(cfg.MemoryLimit)
	}
	if v := getenv("GOMAXPROCS"); v == "" && cfg.MaxProcs > 0 {
		runtime.GOMAXPROCS(cfg.MaxProcs)
	}
	logger.Debug("go runtime", "gomaxprocs", runtime.GOMAXPROCS(0), "memory_limit", debug.SetMemoryLimit(-1))
}
