package nacos_test

import (
	"github.com/meshbridge/meshbridge/adapters/nacos/config"
	"io"
	"net/http"
	"strings"
	"testing"
)

// do sends one request shaped like the Nacos 1.x Java client's
// (NamingProxy/HttpAgent): form-encoded parameters, Client-Version and
// User-Agent headers.
func do(t testing.TB, e *env, method, path, form string, header map[string]string) (int, string) {
	t.Helper()
	url := "http://" + e.httpAddr + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if form != "" {
			url += "?" + form
		}
	} else {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Client-Version", "Nacos-Java-Client:v1.4.6")
	req.Header.Set("User-Agent", "Nacos-Java-Client:v1.4.6")
	req.Header.Set("Request-Module", "Naming")
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func postForm(t testing.TB, e *env, path, form string) string {
	t.Helper()
	code, body := do(t, e, http.MethodPost, path, form, nil)
	if code != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, code, body)
	}
	return body
}

func configMD5(s string) string { return config.MD5(s) }
