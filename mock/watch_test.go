package mock

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
)

// Hot reload: a changed file is served after the next look; a bad change
// keeps the last good stubs and shows its error on the admin API until a
// good change clears it; stubs added through the admin API survive.
func TestWatchReloadsAndKeepsTheLastGoodSet(t *testing.T) {
	root := writeStubs(t, map[string]string{
		"mappings/hello.json": `{"request": {"url": "/hello"}, "response": {"body": "v1"}}`,
	})
	ts := start(t, Options{}, root)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.Watch(ctx, 10*time.Millisecond) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	mustStatus(t, 201, "POST", ts.URL+"/__admin/mappings", `{"request": {"url": "/admin-added"}}`)

	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(root, "mappings", name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		// A later modification time than the last write, even on a file
		// system with coarse times, so that the change shows.
		later := time.Now().Add(time.Duration(len(content)) * time.Second)
		if err := os.Chtimes(path, later, later); err != nil {
			t.Fatal(err)
		}
	}
	body := func(path string) func() error {
		return func() error {
			resp, err := http.Get(ts.URL + path)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b := make([]byte, 64)
			n, _ := resp.Body.Read(b)
			return fmt.Errorf("status %d, %q", resp.StatusCode, b[:n])
		}
	}
	waitBody := func(path, want string) {
		t.Helper()
		poll.UntilNil(t, path+" answering "+want, func() error {
			err := body(path)()
			if err != nil && strings.HasSuffix(err.Error(), fmt.Sprintf("%q", want)) {
				return nil
			}
			return err
		})
	}

	write("hello.json", `{"request": {"url": "/hello"}, "response": {"body": "v2"}}`)
	waitBody("/hello", "v2")

	write("hello.json", `{"request": {"url": "/hello"}, "response": {"body": "v3"}, "colour": "red"}`)
	poll.Until(t, "the bad change reported", func() bool { return ts.Status().LastError != "" })
	st := decode[Status](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/meshbridge/status", ""))
	if !strings.Contains(st.LastError, "hello.json") || !strings.Contains(st.LastError, `unknown key "colour"`) {
		t.Fatalf("status error %q: want the file and the key", st.LastError)
	}
	waitBody("/hello", "v2") // the last good set still answers
	mustStatus(t, 200, "GET", ts.URL+"/admin-added", "")

	write("other.yaml", "request: {url: /other}\nresponse: {body: other}\n")
	write("hello.json", `{"request": {"url": "/hello"}, "response": {"body": "v4"}}`)
	waitBody("/hello", "v4")
	waitBody("/other", "other")
	if st := ts.Status(); st.LastError != "" || st.Files != 2 {
		t.Fatalf("after the fix: %+v", st)
	}
	mustStatus(t, 200, "GET", ts.URL+"/admin-added", "")
}

// At start a bad set is an error, for the binary to refuse to start,
// naming each bad file.
func TestLoadFilesRefusesABadSet(t *testing.T) {
	root := writeStubs(t, map[string]string{
		"mappings/good.json":      `{"request": {"url": "/good"}}`,
		"mappings/bad-regex.json": `{"request": {"urlPattern": "(("}}`,
		"mappings/no-body.json":   `{"request": {"url": "/b"}, "response": {"bodyFileName": "missing.json"}}`,
		"__files/other.json":      `{}`,
	})
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.LoadFiles(root)
	for _, want := range []string{"bad-regex.json: request.urlPattern: invalid regex", `no-body.json: response.bodyFileName: body file "missing.json" does not exist`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
	if n := len(s.Stubs()); n != 0 {
		t.Fatalf("%d stubs taken from a bad set", n)
	}
}

// Two stubs with one id, in two files: an error naming both files.
func TestLoadFilesRefusesADuplicateID(t *testing.T) {
	root := writeStubs(t, map[string]string{
		"a.json": `{"id": "same", "request": {"url": "/a"}}`,
		"b.yaml": "id: same\nrequest: {url: /b}\n",
	})
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.LoadFiles(root)
	if err == nil || !strings.Contains(err.Error(), `duplicate stub id "same"`) || !strings.Contains(err.Error(), "a.json") || !strings.Contains(err.Error(), "b.yaml") {
		t.Fatalf("error %v: want the id and both files", err)
	}
}
