package sdk

import (
	"log/slog"
	"os"
	"strings"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// stderr is the plugin's real standard error, captured before go-plugin
// redirects os.Stderr to its gRPC stdio stream: the host reads this one
// line by line and forwards each into its own log.
var stderr = os.Stderr

// Logger returns the logger a plugin should use. It writes JSON lines to
// stderr in the form hosts parse (@level, @message, @timestamp and the
// attributes), so each line appears in the host's log with the plugin's
// name, at its level; lines below the host's own level (which the host
// passes in the environment) are not written. Serve also installs it as
// slog's default.
func Logger() *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(os.Getenv(wire.LogLevelEnv))) // unset or unknown: stay at info
	return slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: hclogKeys,
	}))
}

// hclogKeys renames slog's built-in keys to the ones go-plugin's host side
// recognises.
func hclogKeys(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		return slog.String("@timestamp", a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
	case slog.LevelKey:
		return slog.String("@level", strings.ToLower(a.Value.String()))
	case slog.MessageKey:
		return slog.String("@message", a.Value.String())
	}
	return a
}
