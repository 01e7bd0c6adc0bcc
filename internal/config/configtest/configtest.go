package configtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/internal/config"
)

// WantPrefix starts the first line of every bad configuration file; the
// rest of the line is the text its error must contain.
const WantPrefix = "# want: "

// RejectsBad loads every testdata/*.bad.yaml with load, each in a subtest
// named after the file, and fails unless load returns an error containing
// the file's want text. No bad files at all, or one without its want
// line, fail the test too. load may fail t itself for what an error
// cannot show (an exit code).
func RejectsBad(t *testing.T, load func(t *testing.T, path string) error) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.bad.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.bad.yaml: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".bad.yaml"), func(t *testing.T) {
			if err := check(path, load(t, path)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// check says why loadErr, the error of loading path, is not the one the
// want line of path names; nil when it is.
func check(path string, loadErr error) error {
	want, err := wantText(path)
	if err != nil {
		return err
	}
	if loadErr == nil {
		return fmt.Errorf("%s accepted; want an error containing %q", path, want)
	}
	if !strings.Contains(loadErr.Error(), want) {
		return fmt.Errorf("%s: error %q\ndoes not contain %q", path, loadErr, want)
	}
	return nil
}

// wantText reads the want line that starts path.
func wantText(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, _, err := bufio.NewReader(f).ReadLine()
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	want, ok := strings.CutPrefix(string(line), WantPrefix)
	if !ok || strings.TrimSpace(want) == "" {
		return "", fmt.Errorf("%s must start with a line %q followed by the error text", path, WantPrefix+"...")
	}
	return want, nil
}

// Load decodes the file at path strictly onto cfg, which holds the
// defaults, and validates it, as a binary loads one section of its file.
func Load[C interface{ Validate() error }](path string, cfg C) (C, error) {
	if err := config.Load(path, cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}
