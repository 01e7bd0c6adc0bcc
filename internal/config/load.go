package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds a configuration file.
const MaxFileSize = 4 << 20

// Section is a top-level key of a configuration that its struct does not
// declare: the settings of a part registered at run time (a registry
// front-end's eureka:), decoded strictly onto the defaults Value, a
// pointer to a struct, holds.
type Section struct {
	Key   string
	Value any
}

// Load strictly decodes the YAML file at path into cfg, which must already
// hold the defaults, and each section's key into its Value, as if the
// sections were fields of cfg's struct: an unknown key anywhere is an
// error naming the key and its line. An empty path leaves cfg as it is.
func Load(path string, cfg any, sections ...Section) error {
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
	if err := Decode(data, cfg, sections...); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return nil
}

// Decode strictly decodes YAML into cfg and the sections (see Load).
// yaml.v3 reports unknown keys as "line N: field x not found in type T";
// we reword that to name the key.
func Decode(data []byte, cfg any, sections ...Section) error {
	if len(sections) == 0 {
		return decode(data, cfg)
	}
	whole := withSections(cfg, sections)
	if err := decode(data, whole.Interface()); err != nil {
		return err
	}
	reflect.ValueOf(cfg).Elem().Set(whole.Elem().Field(0))
	return nil
}

func decode(data []byte, cfg any) error {
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

// withSections returns a pointer to a struct built for this decode: cfg's
// struct inline, holding cfg's values, then one field per section under
// its key, holding the section's pointer, so yaml.v3 decodes the file in
// one strict pass and fills the sections in place. A section whose key is
// null keeps its defaults: only the field's pointer is dropped.
func withSections(cfg any, sections []Section) reflect.Value {
	base := reflect.ValueOf(cfg).Elem()
	fields := []reflect.StructField{{Name: "Base", Type: base.Type(), Tag: `yaml:",inline"`}}
	for i, s := range sections {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("Section%d", i), Type: reflect.TypeOf(s.Value), Tag: reflect.StructTag(fmt.Sprintf("yaml:%q", s.Key)),
		})
	}
	whole := reflect.New(reflect.StructOf(fields))
	whole.Elem().Field(0).Set(base)
	for i, s := range sections {
		whole.Elem().Field(i + 1).Set(reflect.ValueOf(s.Value))
	}
	return whole
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
