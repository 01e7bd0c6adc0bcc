package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/meshbridge/meshbridge/mock/load"
	"github.com/meshbridge/meshbridge/mock/stub"
)

// Import loads the spec at path, makes its stubs and writes them to the
// stub root dir as mappings/<spec's name>.json. It returns the file
// written and how many stubs it holds.
func Import(ctx context.Context, path, dir string, opts Options) (string, int, error) {
	doc, err := Load(ctx, path)
	if err != nil {
		return "", 0, err
	}
	ms, err := Mappings(doc, opts)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	file, err := Write(dir, name, ms)
	return file, len(ms), err
}

// Write puts ms in dir/mappings/<name>.json in WireMock's list form
// ({"mappings": [...]}), through a temporary file renamed into place so
// that a polling reload never reads half of it.
func Write(dir, name string, ms []stub.Mapping) (string, error) {
	if ms == nil {
		ms = []stub.Mapping{} // a spec without operations: an empty list, not null
	}
	data, err := json.MarshalIndent(map[string][]stub.Mapping{"mappings": ms}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("openapi: write %s: %w", name, err)
	}
	mappings := filepath.Join(dir, "mappings")
	if err := os.MkdirAll(mappings, 0o755); err != nil {
		return "", fmt.Errorf("openapi: write: %w", err)
	}
	file := filepath.Join(mappings, name+".json")
	if err := load.WriteFile(file, append(data, '\n')); err != nil {
		return "", fmt.Errorf("openapi: %w", err)
	}
	return file, nil
}
