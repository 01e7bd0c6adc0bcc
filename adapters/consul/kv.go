package consul

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// kv serves /v1/kv/{key} over the store's key space.
func (s *Server) kv(w http.ResponseWriter, r *http.Request) error {
	key := strings.TrimPrefix(r.URL.Path, "/v1/kv/")
	q := query(r)
	switch r.Method {
	case http.MethodGet:
		if _, ok := q["keys"]; ok {
			return s.kvKeys(w, r, key)
		}
		return s.kvGet(w, r, key)
	case http.MethodPut:
		return s.kvPut(w, r, key)
	default:
		return s.kvDelete(w, r, key)
	}
}

func kvPair(kv *registry.KV) *wire.KVPair {
	p := &wire.KVPair{Key: kv.Key, Flags: kv.Flags, CreateIndex: uint64(kv.CreateRevision), ModifyIndex: uint64(kv.Revision)}
	if len(kv.Value) > 0 {
		p.Value = kv.Value
	}
	return p
}

// readKV lists the entries for a read and the prefix's index: the newest
// change under it, deletions included.
func (s *Server) readKV(r *http.Request, key string, recurse bool) ([]*registry.KV, int64, <-chan struct{}, error) {
	idx, wake := s.notify.kvPrefix(key, !recurse)
	var entries []*registry.KV
	if recurse {
		list, _, err := s.store.ListKV(r.Context(), key)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("consul: list keys %q: %w", key, err)
		}
		entries = list
	} else {
		kv, err := s.store.GetKV(r.Context(), key)
		switch {
		case errors.Is(err, registry.ErrNotFound):
		case err != nil:
			return nil, 0, nil, fmt.Errorf("consul: get key %q: %w", key, err)
		default:
			entries = []*registry.KV{kv}
		}
	}
	for _, e := range entries {
		idx = max(idx, e.Revision)
	}
	return entries, idx, wake, nil
}

// kvGet serves GET /v1/kv/{key}[?recurse][&raw]: 404 when nothing matches,
// still with an index so blocking clients can wait for the key to appear.
func (s *Server) kvGet(w http.ResponseWriter, r *http.Request, key string) error {
	q := query(r)
	_, recurse := q["recurse"]
	_, raw := q["raw"]
	if !recurse && key == "" {
		return errorf(http.StatusBadRequest, "Missing key name")
	}
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		entries, idx, wake, err := s.readKV(r, key, recurse)
		if err != nil {
			return readResult{}, nil, err
		}
		if len(entries) == 0 {
			return readResult{status: http.StatusNotFound, index: idx}, wake, nil
		}
		if raw && !recurse {
			return readResult{raw: entries[0].Value, rawOK: true, index: idx}, wake, nil
		}
		out := make([]*wire.KVPair, len(entries))
		for i, e := range entries {
			out[i] = kvPair(e)
		}
		return readResult{body: out, index: idx}, wake, nil
	})
}

// kvKeys serves GET /v1/kv/{prefix}?keys[&separator=]: key names, rolled
// up at the first separator after the prefix.
func (s *Server) kvKeys(w http.ResponseWriter, r *http.Request, prefix string) error {
	q := query(r)
	var sep string
	if _, ok := q["seperator"]; ok { // Consul's historic spelling, still accepted
		sep = q.Get("seperator")
	}
	if _, ok := q["separator"]; ok {
		sep = q.Get("separator")
	}
	return s.serveRead(w, r, func() (readResult, <-chan struct{}, error) {
		entries, idx, wake, err := s.readKV(r, prefix, true)
		if err != nil {
			return readResult{}, nil, err
		}
		names := make([]string, len(entries))
		for i, e := range entries {
			names[i] = e.Key
		}
		keys := rollupKeys(prefix, sep, names)
		if len(keys) == 0 && prefix != "" {
			return readResult{status: http.StatusNotFound, index: idx}, wake, nil
		}
		return readResult{body: keys, index: idx}, wake, nil
	})
}

// casParam reads ?cas= as the store's expected revision (-1 when absent:
// no check).
func casParam(r *http.Request) (expect int64, cas bool, err error) {
	q := query(r)
	if _, ok := q["cas"]; !ok {
		return -1, false, nil
	}
	n, perr := strconv.ParseUint(q.Get("cas"), 10, 64)
	if perr != nil || n > 1<<62 {
		return 0, false, errorf(http.StatusBadRequest, "Invalid cas index: %q", q.Get("cas"))
	}
	return int64(n), true, nil
}

// rollupKeys lists the keys under prefix, sorted, cutting each after the
// first separator that follows the prefix (so "a/b/c" under "a/" with "/"
// lists as "a/b/"), without duplicates. Keys outside prefix are skipped.
func rollupKeys(prefix, sep string, keys []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if sep != "" {
			if i := strings.Index(k[len(prefix):], sep); i >= 0 {
				k = k[:len(prefix)+i+len(sep)]
			}
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// conflicting answers Consul's 400 when flags that do not compose are combined.
func conflicting(r *http.Request, flags ...string) error {
	q := query(r)
	found := false
	for _, f := range flags {
		if _, ok := q[f]; ok {
			if found {
				return errorf(http.StatusBadRequest, "Conflicting flags: %s", q.Encode())
			}
			found = true
		}
	}
	return nil
}

// kvPut serves PUT /v1/kv/{key}[?cas=][&flags=]: true, or false when a
// check-and-set lost. The body is the value, up to 512 KiB.
func (s *Server) kvPut(w http.ResponseWriter, r *http.Request, key string) error {
	if key == "" {
		return errorf(http.StatusBadRequest, "Missing key name")
	}
	if err := conflicting(r, "cas", "acquire", "release"); err != nil {
		return err
	}
	q := query(r)
	if _, ok := q["acquire"]; ok {
		return errorf(http.StatusBadRequest, "meshbridge: sessions (acquire/release) are not supported")
	}
	if _, ok := q["release"]; ok {
		return errorf(http.StatusBadRequest, "meshbridge: sessions (acquire/release) are not supported")
	}
	kv := &registry.KV{Key: key}
	if _, ok := q["flags"]; ok {
		f, err := strconv.ParseUint(q.Get("flags"), 10, 64)
		if err != nil {
			return errorf(http.StatusBadRequest, "Invalid flags: %v", err)
		}
		kv.Flags = f
	}
	expect, cas, err := casParam(r)
	if err != nil {
		return err
	}
	if r.ContentLength > s.opts.MaxKVValueBytes {
		return s.kvTooLarge(r.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxKVValueBytes+1))
	if he := bodyTimeout(err); he != nil {
		return he
	}
	if err != nil {
		return errorf(http.StatusBadRequest, "Request body read failed: %v", err)
	}
	if int64(len(body)) > s.opts.MaxKVValueBytes {
		return s.kvTooLarge(int64(len(body)))
	}
	kv.Value = body
	stored, err := s.store.PutKV(r.Context(), kv, expect)
	switch {
	case errors.Is(err, registry.ErrConflict) && cas:
		writeJSON(w, http.StatusOK, false)
		return nil
	case errors.Is(err, registry.ErrInvalid):
		return errorf(http.StatusBadRequest, "Invalid key: %v", err)
	case err != nil:
		return fmt.Errorf("consul: put key %q: %w", key, err)
	}
	s.settle(r.Context(), stored.Revision)
	writeJSON(w, http.StatusOK, true)
	return nil
}

// settleKV waits until a delete under key is reflected in blocking-query
// state, so a read right after the answer does not see the key. A delete
// returns no revision; listing the key gives one at least as new.
func (s *Server) settleKV(r *http.Request, key string) {
	if _, rev, err := s.store.ListKV(r.Context(), key); err == nil {
		s.settle(r.Context(), rev)
	}
}

func (s *Server) kvTooLarge(n int64) error {
	return errorf(http.StatusRequestEntityTooLarge,
		"Request body(%d bytes) too large, max size: %d bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.",
		n, s.opts.MaxKVValueBytes)
}

// kvDelete serves DELETE /v1/kv/{key}[?recurse|?cas=]: true, or false when
// a check-and-set delete lost. Deleting a missing key succeeds.
func (s *Server) kvDelete(w http.ResponseWriter, r *http.Request, key string) error {
	if err := conflicting(r, "recurse", "cas"); err != nil {
		return err
	}
	q := query(r)
	if _, ok := q["recurse"]; ok {
		if _, err := s.store.DeleteKVPrefix(r.Context(), key); err != nil {
			return fmt.Errorf("consul: delete prefix %q: %w", key, err)
		}
		s.settleKV(r, key)
		writeJSON(w, http.StatusOK, true)
		return nil
	}
	if key == "" {
		return errorf(http.StatusBadRequest, "Missing key name")
	}
	expect, cas, err := casParam(r)
	if err != nil {
		return err
	}
	_, err = s.store.DeleteKV(r.Context(), key, expect)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		// Consul deletes are idempotent; a CAS delete of a missing key succeeds too.
	case errors.Is(err, registry.ErrConflict) && cas:
		writeJSON(w, http.StatusOK, false)
		return nil
	case err != nil:
		return fmt.Errorf("consul: delete key %q: %w", key, err)
	}
	s.settleKV(r, key)
	writeJSON(w, http.StatusOK, true)
	return nil
}
