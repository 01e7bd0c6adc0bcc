package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type sample struct {
	Listen string `yaml:"listen"`
	Store  struct {
		Dir     string        `yaml:"dir"`
		Timeout time.Duration `yaml:"timeout"`
	} `yaml:"store"`
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name, yaml, wantErr string
	}{
		{"ok", "listen: ':1'\nstore:\n  dir: /x\n  timeout: 2s\n", ""},
		{"empty keeps defaults", "", ""},
		{"unknown top key", "listen: ':1'\ncolour: red\n", `line 2: unknown key "colour"`},
		{"unknown nested key", "store:\n  dri: /x\n", `line 2: unknown key "dri"`},
		{"bad duration", "store:\n  timeout: soon\n", "line 2"},
		{"two documents", "listen: a\n---\nlisten: b\n", "one YAML document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s sample
			s.Listen = "default"
			err := Decode([]byte(tc.yaml), &s)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoadKeepsDefaultsAndBoundsSize(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte("store:\n  dir: /data\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var s sample
	s.Listen = ":8700"
	if err := Load(p, &s); err != nil {
		t.Fatal(err)
	}
	if s.Listen != ":8700" || s.Store.Dir != "/data" {
		t.Fatalf("got %+v", s)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+10), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Load(big, &s); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("big file: %v", err)
	}
	if err := Load(filepath.Join(dir, "missing.yaml"), &s); err == nil {
		t.Fatal("missing file accepted")
	}
}

// section is a part's settings, registered at run time.
type section struct {
	Listen string `yaml:"listen"`
	Limit  int    `yaml:"limit"`
}

// Sections decode as if they were fields of the file's struct: strictly,
// onto their defaults, with unknown keys named with their line anywhere.
func TestDecodeSections(t *testing.T) {
	cases := []struct {
		name, yaml, wantErr string
		wantListen          string
		wantLimit           int
		wantTop             string
	}{
		{"defaults", "", "", ":8761", 5, "default"},
		{"section and top", "listen: ':1'\neureka:\n  limit: 9\n", "", ":8761", 9, ":1"},
		{"null section keeps defaults", "eureka:\n", "", ":8761", 5, "default"},
		{"unknown key in a section", "eureka:\n  limt: 9\n", `line 2: unknown key "limt"`, "", 0, ""},
		{"unknown top key", "eurka:\n  limit: 9\n", `line 1: unknown key "eurka"`, "", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sample{Listen: "default"}
			sec := &section{Listen: ":8761", Limit: 5}
			err := Decode([]byte(tc.yaml), &s, Section{Key: "eureka", Value: sec})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Listen != tc.wantTop || sec.Listen != tc.wantListen || sec.Limit != tc.wantLimit {
				t.Fatalf("got %+v and %+v", s, *sec)
			}
		})
	}
}

// entry decodes like a registrysync registry entry: its type chooses the
// struct the rest of its keys decode onto.
type entry struct {
	Type     string
	Settings any
}

type kindA struct {
	URLs    []string `yaml:"urls"`
	Timeout time.Duration
	Nested  struct {
		On bool `yaml:"on"`
	} `yaml:"nested"`
	List []struct {
		Name string `yaml:"name"`
	} `yaml:"list"`
}

func (e *entry) UnmarshalYAML(n *yaml.Node) error {
	rest := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "type" {
			e.Type = n.Content[i+1].Value
			continue
		}
		rest.Content = append(rest.Content, n.Content[i], n.Content[i+1])
	}
	s := &kindA{URLs: []string{"default"}}
	e.Settings = s
	return DecodeNode(rest, s)
}

func TestDecodeNodeIsStrictWithLines(t *testing.T) {
	cases := []struct {
		name, yaml string
		wantErr    []string
	}{
		{"ok", "entries:\n- type: a\n  urls: [x]\n  timeout: 2s\n  nested: {on: true}\n  list: [{name: n}]\n", nil},
		{"unknown key", "entries:\n- type: a\n  urlz: [x]\n", []string{`line 3: unknown key "urlz"`}},
		{"unknown nested key and a bad value", "entries:\n- type: a\n  nested:\n    of: true\n- type: a\n  timeout: soon\n",
			[]string{`line 4: unknown key "of"`}},
		{"unknown key in a list", "entries:\n- type: a\n  list:\n  - name: n\n    nmae: m\n", []string{`line 5: unknown key "nmae"`}},
		{"two entries, two errors and the outer one", "entries:\n- type: a\n  x: 1\n- type: a\n  y: 2\ncolour: red\n",
			[]string{`line 3: unknown key "x"`, `line 5: unknown key "y"`, `line 6: unknown key "colour"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc struct {
				Entries []entry `yaml:"entries"`
			}
			err := Decode([]byte(tc.yaml), &doc)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if s := doc.Entries[0].Settings.(*kindA); s.URLs[0] != "x" || s.Timeout != 2*time.Second || !s.Nested.On || s.List[0].Name != "n" {
					t.Fatalf("decoded %+v", s)
				}
				return
			}
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want it to contain %q", err, want)
				}
			}
		})
	}
}
