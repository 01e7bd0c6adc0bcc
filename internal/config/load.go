package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds a configuration file.
const MaxFileSize = 4 << 20

// Load strictly decodes the YAML file at path into cfg, which must already
// hold the defaults. An empty path leaves cfg as it is.
func Load(path string, cfg any) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return fmt.Errorf("config: %s is larger than %d bytes", path, MaxFileSize)
	}
	if err := Decode(data, cfg); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return nil
}

// Decode strictly decodes YAML into cfg. yaml.v3 reports unknown keys as
// "line N: field x not found in type T"; we reword that to name the key.
func Decode(data []byte, cfg any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file keeps the defaults
		}
		return errors.New(reword(err.Error()))
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("only one YAML document is allowed")
	}
	return nil
}

func reword(msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var out []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		// "line 3: field colour not found in type main.Config"
		if pre, rest, ok := strings.Cut(line, ": field "); ok {
			if key, _, ok := strings.Cut(rest, " not found in type"); ok {
				line = pre + ": unknown key " + fmt.Sprintf("%q", key)
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "; ")
}

// Errors collects validation errors with their field paths.
type Errors []string

// Add records an error for field when bad is true.
func (e *Errors) Add(bad bool, field, format string, args ...any) {
	if bad {
		*e = append(*e, field+": "+fmt.Sprintf(format, args...))
	}
}

// Err returns nil or one error listing every problem.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return errors.New(strings.Join(e, "; "))
}
