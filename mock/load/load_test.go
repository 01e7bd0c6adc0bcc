package load

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The layouts a root may have, and what each loads.
func TestLayouts(t *testing.T) {
	mapping := `{"request": {"url": "/x"}, "response": {"bodyFileName": "b.txt"}}`
	for _, tc := range []struct {
		name  string
		files map[string]string
		root  string // under the temporary folder
		want  []string
	}{
		{"WireMock's root: mappings/ and __files/", map[string]string{"mappings/a.json": mapping, "mappings/sub/b.yaml": "request: {url: /y}", "mappings/README.md": "skipped", "__files/b.txt": "body"}, "", []string{"mappings/a.json", "mappings/sub/b.yaml"}},
		{"a folder of stub files with __files/ inside", map[string]string{"a.json": mapping, "__files/b.txt": "body", "__files/c.json": "not a stub"}, "", []string{"a.json"}},
		{"one file in a mappings folder", map[string]string{"mappings/a.json": mapping, "__files/b.txt": "body"}, "mappings/a.json", []string{"mappings/a.json"}},
		{"hidden files are skipped", map[string]string{".a.json.swp": "{", "b.yml": "request: {url: /y}"}, "", []string{"b.yml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tc.files)
			res, err := Load(filepath.Join(dir, tc.root))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range res.Stubs {
				rel, _ := filepath.Rel(dir, s.File)
				got = append(got, filepath.ToSlash(rel))
			}
			if !slices.Equal(got, tc.want) || res.Files != len(tc.want) {
				t.Fatalf("loaded %v (%d files), want %v", got, res.Files, tc.want)
			}
		})
	}
}

// A stub without an id keeps the same one across loads, and the
// fingerprint changes with a file's content and with a body file.
func TestStableIDsAndFingerprint(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"mappings/a.json": `{"mappings": [{"request": {"url": "/a"}}, {"request": {"url": "/b"}}]}`, "__files/x.txt": "x"})
	first, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.Stubs[0].Stub.ID() != second.Stubs[0].Stub.ID() || first.Stubs[0].Stub.ID() == first.Stubs[1].Stub.ID() {
		t.Fatalf("ids %s %s, then %s: want stable and distinct", first.Stubs[0].Stub.ID(), first.Stubs[1].Stub.ID(), second.Stubs[0].Stub.ID())
	}
	if fp, _ := Fingerprint(dir); fp != first.Fingerprint {
		t.Fatal("fingerprint differs with nothing changed")
	}
	write(t, dir, map[string]string{"__files/x.txt": "longer"})
	if fp, _ := Fingerprint(dir); fp == first.Fingerprint {
		t.Fatal("fingerprint unchanged after a body file changed")
	}
	if _, err := Fingerprint(filepath.Join(dir, "gone")); err == nil {
		t.Fatal("a missing root: no error")
	}
}
