package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// MissingError says a binary cannot be had: its command is not in this
// checkout, or go is not installed; or an image made on this machine
// (Component.BuiltBy) is not made yet. Callers may skip rather than fail.
type MissingError struct {
	Binary string
	Reason string
}

func (e *MissingError) Error() string { return fmt.Sprintf("%s unavailable: %s", e.Binary, e.Reason) }

// ModuleRoot finds the meshbridge module root from dir upwards.
func ModuleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module github.com/meshbridge/meshbridge\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("runner: no meshbridge go.mod above %s", dir)
		}
	}
}

// Build compiles the named binaries from the module at root into dir as
// static binaries (CGO_ENABLED=0, so they also run in FROM scratch images).
// A command missing from the checkout is a *MissingError.
func Build(ctx context.Context, root, dir string, names ...string) error {
	if _, err := exec.LookPath("go"); err != nil {
		return &MissingError{Binary: strings.Join(names, ", "), Reason: "the go command is not installed"}
	}
	var pkgs []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(root, "cmd", n)); err != nil {
			return &MissingError{Binary: n, Reason: fmt.Sprintf("cmd/%s is not in this checkout (%s)", n, root)}
		}
		pkgs = append(pkgs, "./cmd/"+n)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	args := append([]string{"build", "-trimpath", "-o", abs + string(filepath.Separator)}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("runner: go build %s: %w\n%s", strings.Join(pkgs, " "), err, out)
	}
	return nil
}

// HaveBinaries returns a *MissingError for the first binary absent from dir.
func HaveBinaries(dir string, names ...string) error {
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n)); err != nil || st.IsDir() {
			return &MissingError{Binary: n, Reason: fmt.Sprintf("no %s in %s", n, dir)}
		}
	}
	return nil
}

var flagRE = regexp.MustCompile(`^\s+-([a-z][a-z0-9-]*)`)

// binaryFlags lists the flags a binary's --help shows.
func binaryFlags(ctx context.Context, path string) (map[string]bool, error) {
	cmd := exec.CommandContext(ctx, path, "--help")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return nil, fmt.Errorf("runner: %s --help: %w", path, err)
		}
	}
	flags := helpFlags(out.String())
	if len(flags) == 0 {
		return nil, fmt.Errorf("runner: %s --help listed no flags", path)
	}
	return flags, nil
}

// helpFlags reads flag names from Go flag package usage text.
func helpFlags(help string) map[string]bool {
	flags := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(help))
	for sc.Scan() {
		if m := flagRE.FindStringSubmatch(sc.Text()); m != nil {
			flags[m[1]] = true
		}
	}
	return flags
}
