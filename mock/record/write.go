package record

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/meshbridge/meshbridge/mock/load"
	"github.com/meshbridge/meshbridge/mock/stub"
)

// record writes the exchange as a stub file, unless one is there: the
// body file first, then the mapping, each renamed into place, so that a
// polling reload never sees a mapping without its body.
func (rec *Recorder) record(req *stub.Request, resp *http.Response, body []byte) error {
	sum := key(req)
	id := uuidOf(sum)
	name := fileName(req, id)
	mappingFile := filepath.Join(rec.opts.Dir, "mappings", name+".json")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if _, err := os.Stat(mappingFile); err == nil {
		rec.opts.Logger.Debug("already recorded; the first answer stays", "method", req.Method, "url", req.URL(), "file", mappingFile)
		return nil
	}
	m := stub.Mapping{
		ID:       id,
		Name:     "recorded " + req.Method + " " + req.URL(),
		Metadata: map[string]any{"source": "record", "upstream": rec.upstream},
		Request:  requestPattern(req),
		Response: &stub.ResponseDefinition{Status: resp.StatusCode, Headers: responseHeaders(resp.Header)},
	}
	if len(body) > 0 {
		if isUTF8Text(body) && len(body) <= rec.opts.BodyFileBytes {
			text := string(body)
			m.Response.Body = &text
		} else {
			bodyName := name + extension(resp.Header.Get("Content-Type"))
			if err := load.WriteFile(filepath.Join(rec.opts.Dir, "__files", bodyName), body); err != nil {
				return fmt.Errorf("record: %w", err)
			}
			m.Response.BodyFileName = &bodyName
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := load.WriteFile(mappingFile, append(data, '\n')); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	rec.opts.Logger.Info("recorded", "method", req.Method, "url", req.URL(), "status", resp.StatusCode, "file", mappingFile)
	return nil
}

// requestPattern matches the method, the url as sent and the body: JSON
// (by its content type, or its look) with equalToJson, other UTF-8 text
// with equalTo.
func requestPattern(req *stub.Request) stub.RequestPattern {
	u := req.URL()
	p := stub.RequestPattern{Method: req.Method, URL: &u}
	if len(req.Body) == 0 || !isUTF8Text(req.Body) {
		return p
	}
	if json.Valid(req.Body) {
		var doc stub.JSONValue
		if err := doc.UnmarshalJSON(req.Body); err == nil {
			p.BodyPatterns = []stub.StringPattern{{EqualToJSON: &doc}}
			return p
		}
	}
	text := string(req.Body)
	p.BodyPatterns = []stub.StringPattern{{EqualTo: &text}}
	return p
}

// responseHeaders are the headers a replay sends: not the hop-by-hop
// ones, Content-Length, Date or Set-Cookie.
func responseHeaders(h http.Header) map[string]stub.HeaderValues {
	out := map[string]stub.HeaderValues{}
	for k, vs := range h {
		switch {
		case hopByHop(k), k == "Content-Length", k == "Date", k == "Set-Cookie":
			continue
		}
		out[k] = stub.HeaderValues(vs)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// fileName is the request's method, a readable form of its path and
// the start of its id: get-pets-7-3f2a9c1b.
func fileName(req *stub.Request, id string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(req.Method))
	dash := true
	for _, c := range strings.ToLower(req.Path) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			if dash {
				b.WriteByte('-')
			}
			b.WriteRune(c)
			dash = false
		default:
			dash = true
		}
		if b.Len() > 60 {
			break
		}
	}
	return b.String() + "-" + id[:8]
}

// extension is a body file's, by its content type (.bin when unknown).
func extension(contentType string) string {
	t, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ".bin"
	}
	switch {
	case t == "application/json" || strings.HasSuffix(t, "+json"):
		return ".json"
	case t == "text/plain":
		return ".txt"
	}
	if exts, _ := mime.ExtensionsByType(t); len(exts) > 0 {
		return exts[0]
	}
	return ".bin"
}
