package control

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/meshbridge/meshbridge/registry"
)

// kvPath is the escaped path of a key. The key is one escaped segment, so
// "a//b" or "a/../b" reach the server as written instead of being cleaned
// into another key; "." and ".." alone are spelled out for the same reason.
func kvPath(key string) string {
	esc := url.PathEscape(key)
	switch key {
	case ".":
		esc = "%2E"
	case "..":
		esc = "%2E%2E"
	}
	return "/api/v1/kv/" + esc
}

func expectQuery(expect int64) url.Values {
	q := url.Values{}
	if expect >= 0 {
		q.Set("expect", strconv.FormatInt(expect, 10))
	}
	return q
}

// PutKV writes a key with its value and flags. expect is as in
// registry.KeyValues: -1 (any negative) for any revision, 0 for create-only,
// otherwise the revision the key must be at; a mismatch wraps
// registry.ErrConflict.
func (c *Client) PutKV(ctx context.Context, kv *registry.KV, expect int64) (*registry.KV, error) {
	var out registry.KV
	body := KVRequest{Value: kv.Value, Flags: kv.Flags}
	if err := c.do(ctx, http.MethodPut, kvPath(kv.Key), expectQuery(expect), body, &out, requestTimeout); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetKV reads a key; errors.Is(err, registry.ErrNotFound) when it is not there.
func (c *Client) GetKV(ctx context.Context, key string) (*registry.KV, error) {
	var out registry.KV
	if err := c.do(ctx, http.MethodGet, kvPath(key), nil, nil, &out, requestTimeout); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListKV lists the keys with prefix ("" for all), sorted, and the store
// revision they were read at.
func (c *Client) ListKV(ctx context.Context, prefix string) ([]*registry.KV, int64, error) {
	var out KVsResponse
	q := url.Values{"prefix": {"true"}}
	if err := c.do(ctx, http.MethodGet, kvPath(prefix), q, nil, &out, requestTimeout); err != nil {
		return nil, 0, err
	}
	return out.Entries, out.Revision, nil
}

// DeleteKV deletes one key (expect as in PutKV) and returns it as it was.
func (c *Client) DeleteKV(ctx context.Context, key string, expect int64) (*registry.KV, error) {
	var out registry.KV
	if err := c.do(ctx, http.MethodDelete, kvPath(key), expectQuery(expect), nil, &out, requestTimeout); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteKVPrefix deletes every key with prefix ("" for all) and returns how many.
func (c *Client) DeleteKVPrefix(ctx context.Context, prefix string) (int, error) {
	var out KVDeletedResponse
	q := url.Values{"prefix": {"true"}}
	if err := c.do(ctx, http.MethodDelete, kvPath(prefix), q, nil, &out, requestTimeout); err != nil {
		return 0, err
	}
	return out.Deleted, nil
}
