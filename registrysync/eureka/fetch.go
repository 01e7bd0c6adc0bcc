package eureka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"

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
// ("apps/delta") from one of the service URLs.
func (c *Connector) fetch(ctx context.Context, path string) (*document, error) {
	urls := c.cfg.serviceURLs()
	base := urls[rand.IntN(len(urls))]
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+path, nil)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, redactErr(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("get %s: read: %w", path, err)
	case len(body) > maxDocumentBytes:
		return nil, fmt.Errorf("get %s: larger than %d bytes", path, maxDocumentBytes)
	case resp.StatusCode == http.StatusForbidden && path == deltaPath:
		return nil, errDeltaRefused
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("get %s: status %d", path, resp.StatusCode)
	}
	return decodeDocument(body)
}

const (
	fullPath  = "apps"
	deltaPath = "apps/delta"
)

// decodeDocument decodes a registry document with fargo's JSON types, and
// the delta's actionType, which fargo's Instance has no field for, in a
// second pass over the same bytes.
func decodeDocument(body []byte) (*document, error) {
	var r fargo.GetAppsResponseJson
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode registry: %w", err)
	}
	if r.Response == nil {
		return nil, errors.New(`decode registry: no "applications" in the answer`)
	}
	var actions struct {
		Applications struct {
			Application []struct {
				Name     string `json:"name"`
				Instance []struct {
					InstanceID string `json:"instanceId"`
					HostName   string `json:"hostName"`
					ActionType string `json:"actionType"`
				} `json:"instance"`
			} `json:"application"`
		} `json:"applications"`
	}
	doc := &document{apps: r.Response.Applications, hash: r.Response.AppsHashcode, actions: map[instanceKey]string{}}
	// A document whose arrays Eureka wrote as single objects (fargo takes
	// both) has no actions to read: every entry then counts as an upsert,
	// and the hash check catches a deletion it missed.
	if json.Unmarshal(body, &actions) == nil {
		for _, a := range actions.Applications.Application {
			for _, in := range a.Instance {
				id := in.InstanceID
				if id == "" {
					id = in.HostName
				}
				doc.actions[instanceKey{a.Name, id}] = in.ActionType
			}
		}
	}
	for _, a := range doc.apps {
		if a == nil {
			return nil, errors.New("decode registry: an application is null")
		}
		for _, in := range a.Instances {
			if in == nil {
				return nil, fmt.Errorf("decode registry: application %s: an instance is null", a.Name)
			}
		}
	}
	return doc, nil
}

// redactErr strips credentials from the URL net/http names in err.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redact(ue.URL), Err: ue.Err}
	}
	return err
}
