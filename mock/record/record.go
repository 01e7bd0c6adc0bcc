package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// Options configure a Recorder; zero values take the defaults named.
type Options struct {
	// Upstream is the real service's base URL, http or https, with an
	// optional path prefix put before every request's path (required).
	Upstream string
	// Dir is the stub root the recordings go to: mappings/ and __files/
	// are made in it (required).
	Dir string
	// Timeout bounds one call to the upstream, body included (default 30 s).
	Timeout time.Duration
	// MaxBodyBytes bounds the upstream's response body (default 10 MiB);
	// a larger one is answered 502 and not recorded. It bounds the
	// request's body too (larger: 413).
	MaxBodyBytes int64
	// BodyFileBytes: a text body larger than this goes to __files/
	// instead of the stub file; a binary body always does (default
	// 10 KiB, as WireMock's recorder).
	BodyFileBytes int
	// Logger receives each recording and the upstream's failures
	// (default: discarded).
	Logger *slog.Logger
}

// Recorder is an http.Handler that proxies to the upstream and records.
type Recorder struct {
	opts     Options
	upstream string
	client   *http.Client
	// mu makes the check that a stub file exists and its writing one step.
	mu sync.Mutex
}

// New checks opts and makes the stub root's folders.
func New(opts Options) (*Recorder, error) {
	u, err := url.Parse(opts.Upstream)
	switch {
	case opts.Upstream == "":
		return nil, errors.New("record: upstream: required")
	case err != nil:
		return nil, fmt.Errorf("record: upstream: %w", err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("record: upstream: %q is not an http or https URL with a host", opts.Upstream)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("record: upstream: %q has a query or fragment", opts.Upstream)
	case opts.Dir == "":
		return nil, errors.New("record: dir: required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 10 << 20
	}
	if opts.BodyFileBytes <= 0 {
		opts.BodyFileBytes = 10 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{"mappings", "__files"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("record: dir: %w", err)
		}
	}
	client := &http.Client{
		Timeout:   opts.Timeout,
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		// A redirect is the upstream's answer, recorded as it is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Recorder{opts: opts, upstream: strings.TrimSuffix(u.String(), "/"), client: client}, nil
}

// ServeHTTP proxies r to the upstream, answers with what came back and
// records it. An upstream that cannot be reached, or answers more than
// MaxBodyBytes, gets 502 and nothing is recorded.
func (rec *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The engine has bounded the body already; this bounds it when the
	// recorder serves on its own.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rec.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, http.StatusRequestEntityTooLarge, "too_large", err.Error())
		}
		return // else the client went away mid-body
	}
	view := stub.NewRequest(r, body)
	resp, respBody, err := rec.forward(r, view.URL(), body)
	if err != nil {
		rec.opts.Logger.Warn("upstream call failed; not recorded", "method", r.Method, "url", view.URL(), "error", err)
		writeProblem(w, http.StatusBadGateway, "upstream_failed", err.Error())
		return
	}
	if err := rec.record(view, resp, respBody); err != nil {
		rec.opts.Logger.Error("recording not written", "method", r.Method, "url", view.URL(), "error", err)
	}
	h := w.Header()
	for k, vs := range resp.Header {
		if !hopByHop(k) && k != "Content-Length" {
			h[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody) // the client went away; the recording is written
}

// forward makes the upstream call: r's method, path and query (uri)
// under the upstream's URL, its headers but the hop-by-hop ones and
// Accept-Encoding (so that the transport asks for gzip itself and hands
// back the body decoded, which is what a stub file should hold).
func (rec *Recorder) forward(r *http.Request, uri string, body []byte) (*http.Response, []byte, error) {
	var reqBody io.Reader = http.NoBody
	if len(body) > 0 {
		reqBody = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, rec.upstream+uri, reqBody)
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range r.Header {
		if !hopByHop(k) && k != "Accept-Encoding" {
			out.Header[k] = vs
		}
	}
	resp, err := rec.client.Do(out)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, rec.opts.MaxBodyBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read the upstream's body: %w", err)
	}
	if int64(len(respBody)) > rec.opts.MaxBodyBytes {
		return nil, nil, fmt.Errorf("the upstream's body is larger than %d bytes", rec.opts.MaxBodyBytes)
	}
	return resp, respBody, nil
}

// hopByHop headers belong to one connection (RFC 9110, 7.6.1), not to
// the exchange.
func hopByHop(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// writeProblem answers the project's error shape.
func writeProblem(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(map[string]map[string]string{"error": {"code": code, "message": message}}) // plain data always encodes
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

// key names a recorded request: the same method, url and body make the
// same stub id and file name.
func key(req *stub.Request) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", req.Method, req.URL())
	h.Write(req.Body)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// uuidOf is a UUID made from a hash (version 8).
func uuidOf(sum [32]byte) string {
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// isUTF8Text reports whether a body can be written as a string.
func isUTF8Text(b []byte) bool { return utf8.Valid(b) && !bytes.ContainsRune(b, 0) }
