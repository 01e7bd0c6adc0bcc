package load

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// MaxFileSize bounds one stub file.
const MaxFileSize = 32 << 20

// Loaded is a stub and the file it came from.
type Loaded struct {
	Stub *stub.Stub
	File string
}

// Result is what Load read.
type Result struct {
	// Stubs in the order of their files (by path) and within each file.
	Stubs []Loaded
	// Files is how many stub files were read.
	Files int
	// Fingerprint is the files' fingerprint (see Fingerprint) as read.
	Fingerprint string
	// Bodies is the first root's __files folder (nil: none), where stubs
	// added through the admin API find their body files.
	Bodies fs.FS
}

// dirFS is the folder at path, or nil when there is none.
func dirFS(path string) fs.FS {
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return os.DirFS(path)
	}
	return nil
}

// Load reads and compiles every stub file under roots. Every bad file is
// reported, each error naming its file; one bad file fails the load.
func Load(roots ...string) (*Result, error) {
	res := &Result{}
	var errs []error
	h := sha256.New()
	for _, root := range roots {
		files, bodies, err := layout(root)
		if err != nil {
			return nil, err
		}
		fingerprintDir(h, bodies)
		bodyFS := dirFS(bodies)
		if res.Bodies == nil {
			res.Bodies = bodyFS
		}
		for _, f := range files {
			fingerprintFile(h, f)
			stubs, err := loadFile(f, bodyFS)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			res.Files++
			res.Stubs = append(res.Stubs, stubs...)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res.Fingerprint = hex.EncodeToString(h.Sum(nil))
	return res, nil
}

func loadFile(path string, bodies fs.FS) ([]Loaded, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	mappings, err := stub.Decode(path, data)
	if err != nil {
		return nil, err
	}
	out := make([]Loaded, 0, len(mappings))
	for i, m := range mappings {
		if m.ID == "" && m.UUID == "" {
			m.ID = stableID(path, i)
		}
		s, err := stub.Compile(m, bodies)
		if err != nil {
			if len(mappings) > 1 {
				return nil, fmt.Errorf("%s: mappings[%d]: %w", path, i, err)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, Loaded{Stub: s, File: path})
	}
	return out, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxFileSize)
	}
	return data, nil
}

// stableID names a stub without an id by its file and place, so that it
// keeps its id across reloads (a UUID made from a hash, version 8).
func stableID(path string, i int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s#%d", filepath.ToSlash(path), i)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// layout finds root's stub files (sorted by path) and its __files folder.
func layout(root string) (files []string, bodies string, err error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, "", fmt.Errorf("stub root: %w", err)
	}
	if !info.IsDir() {
		dir := filepath.Dir(root)
		if filepath.Base(dir) == "mappings" {
			dir = filepath.Dir(dir)
		}
		return []string{root}, filepath.Join(dir, "__files"), nil
	}
	dir := root
	if info, err := os.Stat(filepath.Join(root, "mappings")); err == nil && info.IsDir() {
		dir = filepath.Join(root, "mappings")
	}
	bodies = filepath.Join(root, "__files")
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path == bodies:
			return filepath.SkipDir
		case d.IsDir() || strings.HasPrefix(d.Name(), "."):
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".json", ".yaml", ".yml":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("stub root %s: %w", root, err)
	}
	return files, bodies, nil
}

// Fingerprint sums the names, sizes and modification times of every file
// Load would read under roots, bodies included: when it differs from a
// Result's, something changed. A root that cannot be read gives an error.
func Fingerprint(roots ...string) (string, error) {
	h := sha256.New()
	for _, root := range roots {
		files, bodies, err := layout(root)
		if err != nil {
			return "", err
		}
		fingerprintDir(h, bodies)
		for _, f := range files {
			fingerprintFile(h, f)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fingerprintFile(w io.Writer, path string) {
	if info, err := os.Stat(path); err == nil {
		fmt.Fprintf(w, "%s\x00%d\x00%d\n", path, info.Size(), info.ModTime().UnixNano())
	} else {
		fmt.Fprintf(w, "%s\x00gone\n", path)
	}
}

func fingerprintDir(w io.Writer, dir string) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fingerprintFile(w, path)
		}
		return nil // a folder that is not there (no __files) has no fingerprint to add
	})
}
