package host

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// hclogAdapter lets go-plugin log into the host's slog logger. go-plugin
// logs its own events through it and, through a Named child, every line the
// plugin writes to stderr: JSON lines from the SDK's logger keep their level
// and attributes, other lines arrive at debug level (panics at error).
type hclogAdapter struct {
	l          *slog.Logger
	name       string
	implied    []any
	fromPlugin bool
}

func newHCLogAdapter(l *slog.Logger) *hclogAdapter { return &hclogAdapter{l: l} }

func hclogToSlog(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	ctx := context.Background()
	lv := hclogToSlog(level)
	if !a.l.Enabled(ctx, lv) {
		return
	}
	if a.fromPlugin {
		args = dropKey(args, "timestamp") // go-plugin appends the line's own time; ours is enough
	}
	a.l.Log(ctx, lv, msg, args...)
}

// dropKey removes a key and its value from alternating key/value args.
func dropKey(args []any, key string) []any {
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && k == key {
			return append(args[:i:i], args[i+2:]...)
		}
	}
	return args
}

func (a *hclogAdapter) Trace(msg string, args ...any) { a.Log(hclog.Trace, msg, args...) }
func (a *hclogAdapter) Debug(msg string, args ...any) { a.Log(hclog.Debug, msg, args...) }
func (a *hclogAdapter) Info(msg string, args ...any)  { a.Log(hclog.Info, msg, args...) }
func (a *hclogAdapter) Warn(msg string, args ...any)  { a.Log(hclog.Warn, msg, args...) }
func (a *hclogAdapter) Error(msg string, args ...any) { a.Log(hclog.Error, msg, args...) }

func (a *hclogAdapter) enabled(level hclog.Level) bool {
	return a.l.Enabled(context.Background(), hclogToSlog(level))
}

func (a *hclogAdapter) IsTrace() bool { return a.enabled(hclog.Trace) }
func (a *hclogAdapter) IsDebug() bool { return a.enabled(hclog.Debug) }
func (a *hclogAdapter) IsInfo() bool  { return a.enabled(hclog.Info) }
func (a *hclogAdapter) IsWarn() bool  { return a.enabled(hclog.Warn) }
func (a *hclogAdapter) IsError() bool { return a.enabled(hclog.Error) }

func (a *hclogAdapter) ImpliedArgs() []any { return a.implied }

func (a *hclogAdapter) With(args ...any) hclog.Logger {
	c := *a
	c.l = a.l.With(args...)
	c.implied = append(append([]any(nil), a.implied...), args...)
	return &c
}

func (a *hclogAdapter) Name() string { return a.name }

// Named is how go-plugin makes the logger for the plugin's stderr lines
// (named after the binary); the plugin attribute already says whose they are.
func (a *hclogAdapter) Named(name string) hclog.Logger {
	c := *a
	c.name = strings.TrimPrefix(a.name+"."+name, ".")
	c.fromPlugin = true
	return &c
}

func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	c := *a
	c.name = name
	return &c
}

// SetLevel is ignored: the slog handler decides.
func (a *hclogAdapter) SetLevel(hclog.Level) {}

func (a *hclogAdapter) GetLevel() hclog.Level {
	for _, lv := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if a.enabled(lv) {
			return lv
		}
	}
	return hclog.Off
}

func (a *hclogAdapter) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(a.l.Handler(), slog.LevelInfo)
}

func (a *hclogAdapter) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return a.StandardLogger(opts).Writer()
}

var _ hclog.Logger = (*hclogAdapter)(nil)

// tailBuffer keeps the last lines a plugin wrote to stderr, so that a
// plugin that dies while starting (a bad flag, a missing key) can be
// explained in the start error.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
	part  []byte
	max   int
}

func newTailBuffer(maxLines int) *tailBuffer { return &tailBuffer{max: maxLines} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(t.part[:i])); line != "" {
			t.lines = append(t.lines, line)
			if len(t.lines) > t.max {
				t.lines = t.lines[len(t.lines)-t.max:]
			}
		}
		t.part = t.part[i+1:]
	}
	if len(t.part) > 4096 {
		t.part = t.part[:0] // an endless line: keep memory bounded
	}
	return len(p), nil
}

// String returns the kept lines, oldest first.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// lineLogger logs each line written to it; it receives what a plugin
// writes to os.Stdout or os.Stderr after Serve (go-plugin carries those over
// gRPC), which would otherwise be lost.
type lineLogger struct {
	mu     sync.Mutex
	l      *slog.Logger
	stream string
	part   []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimRight(string(w.part[:i]), "\r"); line != "" {
			w.l.Info(line, "stream", w.stream)
		}
		w.part = w.part[i+1:]
	}
	if len(w.part) > 64<<10 {
		w.l.Info(string(w.part), "stream", w.stream)
		w.part = w.part[:0]
	}
	return len(p), nil
}

// levelName is the lowest level l logs, passed to plugins so they do not
// write lines the host would drop.
func levelName(l *slog.Logger) string {
	ctx := context.Background()
	for _, lv := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		if l.Enabled(ctx, lv) {
			return lv.String()
		}
	}
	return slog.LevelError.String()
}
