package eureka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/hudl/fargo"
)

// Why the source reads the registry itself rather than with fargo's
// GetApps: GetApps decodes whatever answer it gets (a 403 "not ready" or a
// 500 with a body would read as an empty registry, and an empty listing
// deletes copies), drops apps__hashcode, and fargo has no delta at all
// (its EnableDelta is a TODO). The documents are decoded into fargo's own
// types, so what the source sees is what a fargo client sees.

// maxDocumentBytes bounds a registry document (about 10 times the size of
// one with 10,000 instances).
const maxDocumentBytes = 256 << 20

// errDeltaRefused is a delta the server does not serve (Eureka answers
// 403 when its delta is disabled); the source fetches in full instead.
var errDeltaRefused = errors.New("delta refused")

// document is a registry document: the whole registry or a delta.
type document struct {
	apps []*fargo.Application
	// hash is apps__hashcode: the reconcile hash of the whole registry.
	hash string
	// actions is each delta entry's actionType, by app and instance id.
	actions map[instanceKey]string
}

// instanceKey names an instance in Eureka: its app and its id.
type instanceKey struct{ app, id string }

// fetch reads the whole registry (path "apps") or its delta
// ("apps/delta") from one of the service URLs; see decodeDocument for
// seen and what it returns besides the document.
func (c *Connector) fetch(ctx context.Context, path string, seen decoded) (*document, decoded, error) {
	urls := c.cfg.serviceURLs()
	base := urls[rand.IntN(len(urls))]
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+path, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("get %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("get %s: %w", path, redactErr(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("get %s: read: %w", path, err)
	case len(body) > maxDocumentBytes:
		return nil, nil, fmt.Errorf("get %s: larger than %d bytes", path, maxDocumentBytes)
	case resp.StatusCode == http.StatusForbidden && path == deltaPath:
		return nil, nil, errDeltaRefused
	case resp.StatusCode != http.StatusOK:
		return nil, nil, fmt.Errorf("get %s: status %d", path, resp.StatusCode)
	}
	return decodeDocument(body, seen)
}

const (
	fullPath  = "apps"
	deltaPath = "apps/delta"
)

// decodeDocument reads a registry document in one pass, each instance
// taken as its bytes, and decodes every instance with fargo's Instance
// type, its actionType beside. An instance whose bytes (under the same
// app) were in the document seen is not decoded again: its decoding from
// there is used. A delta keeps every change of the last three minutes,
// so after a mass registration each poll brings back thousands of
// instances it brought the second before; decoding them all with fargo's
// types cost 0.9 s of CPU for 10,000 (docs/benchmarks.md). Nothing of
// the document comes from seen but what the same bytes decoded to.
func decodeDocument(body []byte, seen decoded) (*document, decoded, error) {
	doc := &document{actions: map[instanceKey]string{}}
	next := decoded{}
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	var found bool
	err := readObject(dec, func(name string) error {
		if name != "applications" {
			return dec.SkipValue()
		}
		if dec.PeekKind() == 'n' {
			return dec.SkipValue()
		}
		found = true
		return readObject(dec, func(name string) error {
			switch name {
			case "apps__hashcode":
				return readString(dec, &doc.hash)
			case "application":
				return readOneOrMany(dec, func() error {
					if dec.PeekKind() == 'n' {
						return errors.New("an application is null")
					}
					app := &fargo.Application{}
					if err := readObject(dec, func(name string) error {
						switch name {
						case "name":
							return readString(dec, &app.Name)
						case "instance":
							return readOneOrMany(dec, func() error {
								raw, err := dec.ReadValue()
								if err != nil {
									return err
								}
								in, err := seen.decode(next, app.Name, raw)
								if err != nil {
									return fmt.Errorf("application %s: %w", app.Name, err)
								}
								app.Instances = append(app.Instances, in.inst)
								doc.actions[instanceKey{app.Name, in.id}] = in.action
								return nil
							})
						}
						return dec.SkipValue()
					}); err != nil {
						return err
					}
					doc.apps = append(doc.apps, app)
					return nil
				})
			}
			return dec.SkipValue()
		})
	})
	if err == nil {
		if _, err = dec.ReadToken(); err != io.EOF {
			err = errors.New("data after the document")
		} else {
			err = nil
		}
	}
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("decode registry: %w", err)
	case !found:
		return nil, nil, errors.New(`decode registry: no "applications" in the answer`)
	}
	return doc, next, nil
}

// decoded is the instances of a document by app and bytes.
type decoded map[rawInstance]*decodedInstance

type rawInstance struct{ app, raw string }

type decodedInstance struct {
	inst       *fargo.Instance
	id, action string
}

// decode returns the instance raw decodes to, from seen if it holds the
// same bytes, and records it in next.
func (seen decoded) decode(next decoded, app string, raw jsontext.Value) (*decodedInstance, error) {
	if raw.Kind() == 'n' {
		return nil, errors.New("an instance is null")
	}
	if in, ok := seen[rawInstance{app, string(raw)}]; ok {
		next[rawInstance{app, string(raw)}] = in
		return in, nil
	}
	// raw is the decoder's buffer, valid until its next read, and fargo
	// keeps the bytes of the metadata.
	raw = raw.Clone()
	// The delta's actionType, which fargo's Instance has no field for.
	var extra struct {
		InstanceID string `json:"instanceId"`
		HostName   string `json:"hostName"`
		ActionType string `json:"actionType"`
	}
	in := &decodedInstance{inst: &fargo.Instance{}}
	if err := json.Unmarshal(raw, in.inst); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &extra); err != nil {
		return nil, err
	}
	in.id, in.action = extra.InstanceID, extra.ActionType
	if in.id == "" {
		in.id = extra.HostName
	}
	next[rawInstance{app, string(raw)}] = in
	return in, nil
}

// readObject reads an object, calling field for each member's name with
// the decoder at its value, which field must read.
func readObject(dec *jsontext.Decoder, field func(name string) error) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '{' {
		return fmt.Errorf("%s at %s: want an object", tok.Kind(), dec.StackPointer())
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if err := field(name.String()); err != nil {
			return err
		}
	}
	_, err = dec.ReadToken()
	return err
}

// readOneOrMany reads an array, calling each for every element with the
// decoder at it, or a single value in its place: Eureka's JSON writes a
// list of one as the one element itself (fargo reads both).
func readOneOrMany(dec *jsontext.Decoder, each func() error) error {
	if dec.PeekKind() != '[' {
		return each()
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != ']' {
		if err := each(); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

func readString(dec *jsontext.Decoder, into *string) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '"' {
		return fmt.Errorf("%s at %s: want a string", tok.Kind(), dec.StackPointer())
	}
	*into = tok.String()
	return nil
}

// redactErr strips credentials from the URL net/http names in err.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redact(ue.URL), Err: ue.Err}
	}
	return err
}
