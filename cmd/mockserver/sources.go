package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/mock"
	"github.com/meshbridge/meshbridge/mock/openapi"
	"github.com/meshbridge/meshbridge/mock/record"
)

// stubSources returns the stub roots: the configured ones, the folder the
// OpenAPI documents' stubs are written to, and the recordings' folder; a
// recording also sets opts.Unmatched. The documents are imported before
// it returns (a bad one ends the start, naming it) and again, by a group
// actor, whenever one changes.
func stubSources(cfg *Config, env *app.Env, opts *mock.Options) ([]string, error) {
	roots := append([]string(nil), cfg.Stubs...)
	if len(cfg.OpenAPI.Files) > 0 {
		dir, err := openapiDir(cfg, env)
		if err != nil {
			return nil, err
		}
		imp := &importer{files: cfg.OpenAPI.Files, dir: dir, opts: openapi.Options{BasePath: cfg.OpenAPI.BasePath}, seen: map[string]fileStamp{}}
		if err := imp.importChanged(context.Background()); err != nil {
			return nil, app.UsageError(err)
		}
		env.Go(func(ctx context.Context) error { imp.watch(ctx, cfg.ReloadInterval, env); return nil })
		roots = append(roots, dir)
	}
	if cfg.Record.From != "" {
		rec, err := record.New(record.Options{
			Upstream: cfg.Record.From, Dir: cfg.Record.To, Timeout: cfg.Record.Timeout,
			MaxBodyBytes: cfg.Limits.MaxBodyBytes, Logger: env.Logger.With("component", "mock.record"),
		})
		if err != nil {
			return nil, app.UsageError(fmt.Errorf("config: record: %w", err))
		}
		opts.Unmatched = rec
		roots = append(roots, cfg.Record.To)
		env.Logger.Info("recording", "from", cfg.Record.From, "to", cfg.Record.To)
	}
	return roots, nil
}

// openapiDir is openapi.dir, or a temporary folder removed at exit.
func openapiDir(cfg *Config, env *app.Env) (string, error) {
	if cfg.OpenAPI.Dir != "" {
		return cfg.OpenAPI.Dir, nil
	}
	dir, err := os.MkdirTemp("", "mockserver-openapi-")
	if err != nil {
		return "", err
	}
	env.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir, nil
}

// importer writes each OpenAPI document's stubs again when the document
// changes (its size or modification time), for the engine's reload to
// pick up; a document that turns bad keeps its last stubs.
type importer struct {
	files []string
	dir   string
	opts  openapi.Options
	seen  map[string]fileStamp
}

type fileStamp struct {
	size    int64
	modTime time.Time
}

// importChanged imports every document changed since the last call;
// the good ones' stubs are written and the bad ones' errors returned.
func (imp *importer) importChanged(ctx context.Context) error {
	var errs []error
	for _, f := range imp.files {
		info, err := os.Stat(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("openapi: %w", err))
			continue
		}
		stamp := fileStamp{info.Size(), info.ModTime()}
		if imp.seen[f] == stamp {
			continue
		}
		if _, _, err := openapi.Import(ctx, f, imp.dir, imp.opts); err != nil {
			errs = append(errs, err)
			continue
		}
		imp.seen[f] = stamp
	}
	return errors.Join(errs...)
}

// watch imports changed documents every interval until ctx ends.
func (imp *importer) watch(ctx context.Context, every time.Duration, env *app.Env) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := imp.importChanged(ctx); err != nil {
				env.Logger.Error("openapi import failed; the document's last stubs stay", "err", err)
			}
		}
	}
}
