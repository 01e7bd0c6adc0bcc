package stub

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
)

// response is a compiled ResponseDefinition.
type response struct {
	status int
	header http.Header
	// body is the static body; bodyTemplate replaces it when templating is
	// on, and bodyFile names a body file to read per request when the
	// file name itself is a template.
	body         []byte
	bodyTemplate *template
	bodyFile     *template
	files        fs.FS
	// headerTemplates hold templated header values, by header.
	headerTemplates map[string][]*template
	delay           delay
	fault           *fault
}

// templating names the transformers that turn templating on;
// spring-cloud-contract's own helpers are the jsonpath one, read as
// jsonPath.
var templating = []string{"response-template", "spring-cloud-contract"}

// compileResponse checks d and builds its response; files is the
// __files root (nil: none); path names d in errors ("response").
func compileResponse(d ResponseDefinition, files fs.FS, at string) (*response, error) {
	r := &response{status: d.Status, header: http.Header{}, files: files}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.status < 100 || r.status > 999 {
		return nil, fmt.Errorf("%s.status: %d is not an HTTP status", at, d.Status)
	}
	templated := d.Template
	for _, t := range d.Transformers {
		if !slices.Contains(templating, t) {
			return nil, fmt.Errorf("%s.transformers: %q is not supported (only %s)", at, t, strings.Join(templating, ", "))
		}
		templated = true
	}
	for name, values := range d.Headers {
		if name == "" {
			return nil, fmt.Errorf("%s.headers: an empty header name", at)
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n") {
				return nil, fmt.Errorf("%s.headers.%s: a value may not hold a line break", at, name)
			}
			if templated && strings.Contains(v, "{{") {
				t, err := parseTemplate(v)
				if err != nil {
					return nil, fmt.Errorf("%s.headers.%s: %w", at, name, err)
				}
				if r.headerTemplates == nil {
					r.headerTemplates = map[string][]*template{}
				}
				r.headerTemplates[name] = append(r.headerTemplates[name], t)
				continue
			}
			r.header.Add(name, v)
		}
	}
	if err := r.compileBody(d, templated, at); err != nil {
		return nil, err
	}
	var err error
	if r.delay, err = compileDelay(d, at); err != nil {
		return nil, err
	}
	if d.Fault != nil {
		if r.fault, err = compileFault(*d.Fault, at+".fault"); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *response) compileBody(d ResponseDefinition, templated bool, at string) error {
	var set []string
	for name, present := range map[string]bool{"body": d.Body != nil, "jsonBody": d.JSONBody != nil, "base64Body": d.Base64Body != nil, "bodyFileName": d.BodyFileName != nil} {
		if present {
			set = append(set, name)
		}
	}
	if len(set) > 1 {
		slices.Sort(set)
		return fmt.Errorf("%s: only one of body, jsonBody, base64Body and bodyFileName may be set (%s)", at, strings.Join(set, ", "))
	}
	var text string
	switch {
	case d.Body != nil:
		text = *d.Body
	case d.JSONBody != nil:
		text = string(d.JSONBody.raw)
	case d.Base64Body != nil:
		b, err := base64.StdEncoding.DecodeString(*d.Base64Body)
		if err != nil {
			return fmt.Errorf("%s.base64Body: %w", at, err)
		}
		r.body = b
		return nil // bytes are never templated
	case d.BodyFileName != nil:
		name := *d.BodyFileName
		if templated && strings.Contains(name, "{{") {
			t, err := parseTemplate(name)
			if err != nil {
				return fmt.Errorf("%s.bodyFileName: %w", at, err)
			}
			if r.files == nil {
				return fmt.Errorf("%s.bodyFileName: no __files folder to read %q from", at, name)
			}
			r.bodyFile = t
			return nil
		}
		b, err := readBodyFile(r.files, name)
		if err != nil {
			return fmt.Errorf("%s.bodyFileName: %w", at, err)
		}
		if !templated {
			r.body = b
			return nil
		}
		text = string(b)
	default:
		return nil
	}
	if templated && strings.Contains(text, "{{") {
		t, err := parseTemplate(text)
		if err != nil {
			return fmt.Errorf("%s.body: %w", at, err)
		}
		r.bodyTemplate = t
		return nil
	}
	r.body = []byte(text)
	return nil
}

// readBodyFile reads name under files: a path inside the __files folder
// (no "..", no absolute path), which fs.FS enforces.
func readBodyFile(files fs.FS, name string) ([]byte, error) {
	if files == nil {
		return nil, fmt.Errorf("no __files folder to read %q from", name)
	}
	clean := path.Clean(strings.TrimPrefix(name, "/"))
	if !fs.ValidPath(clean) {
		return nil, fmt.Errorf("%q is not a path inside __files", name)
	}
	b, err := fs.ReadFile(files, clean)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("body file %q does not exist in __files", name)
	}
	return b, err
}

// render gives the response's header and body for req.
func (r *response) render(req *Request) (http.Header, []byte, error) {
	header := r.header
	if r.headerTemplates != nil {
		header = r.header.Clone()
		for name, ts := range r.headerTemplates {
			for _, t := range ts {
				header.Add(name, t.render(req))
			}
		}
	}
	switch {
	case r.bodyFile != nil:
		b, err := readBodyFile(r.files, r.bodyFile.render(req))
		return header, b, err
	case r.bodyTemplate != nil:
		return header, []byte(r.bodyTemplate.render(req)), nil
	}
	return header, r.body, nil
}
