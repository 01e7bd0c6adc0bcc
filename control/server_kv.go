package control

import (
	"net/http"

	"github.com/meshbridge/meshbridge/registry"
)

// KVRequest is the body of PUT /api/v1/kv/{key}.
type KVRequest struct {
	Value []byte `json:"value"`
	Flags uint64 `json:"flags,omitempty"`
}

// KVsResponse answers GET /api/v1/kv/{prefix}?prefix=true: the entries and
// the store revision they were read at (watch from it to miss nothing).
type KVsResponse struct {
	Revision int64          `json:"revision"`
	Entries  []*registry.KV `json:"entries"`
}

// KVDeletedResponse answers DELETE /api/v1/kv/{prefix}?prefix=true.
type KVDeletedResponse struct {
	Deleted int `json:"deleted"`
}

// kvTarget reads the key, ?prefix= and ?expect= of a KV request and checks
// they fit together. Without prefix the key is required: an empty one would
// otherwise read or delete nothing and look like a success.
func kvTarget(r *http.Request) (key string, prefix bool, expect int64, err error) {
	key = r.PathValue("key")
	switch r.URL.Query().Get("prefix") {
	case "", "false":
	case "true":
		prefix = true
	default:
		return "", false, 0, &registry.ValidationError{Field: "prefix", Message: "must be true or false"}
	}
	if expect, err = expectParam(r); err != nil {
		return "", false, 0, err
	}
	switch {
	case key == "" && !prefix:
		return "", false, 0, &registry.ValidationError{Field: "key", Message: "required (use prefix=true to address every key)"}
	case prefix && r.Method == http.MethodPut:
		return "", false, 0, &registry.ValidationError{Field: "prefix", Message: "a write names one key"}
	case prefix && expect != -1:
		return "", false, 0, &registry.ValidationError{Field: "expect", Message: "cannot be combined with prefix=true"}
	}
	return key, prefix, expect, nil
}

func (s *Server) getKV(w http.ResponseWriter, r *http.Request) {
	key, prefix, _, err := kvTarget(r)
	switch {
	case err != nil:
		writeErr(w, err)
	case prefix:
		list, rev, err := s.store.ListKV(r.Context(), key)
		if list == nil {
			list = []*registry.KV{}
		}
		writeResult(w, KVsResponse{Revision: rev, Entries: list}, err)
	default:
		got, err := s.store.GetKV(r.Context(), key)
		writeResult(w, got, err)
	}
}

func (s *Server) putKV(w http.ResponseWriter, r *http.Request) {
	key, _, expect, err := kvTarget(r)
	var req KVRequest
	if err == nil {
		err = decodeBody(r, &req)
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	got, err := s.store.PutKV(r.Context(), &registry.KV{Key: key, Value: req.Value, Flags: req.Flags}, expect)
	writeResult(w, got, err)
}

func (s *Server) deleteKV(w http.ResponseWriter, r *http.Request) {
	key, prefix, expect, err := kvTarget(r)
	switch {
	case err != nil:
		writeErr(w, err)
	case prefix:
		n, err := s.store.DeleteKVPrefix(r.Context(), key)
		writeResult(w, KVDeletedResponse{Deleted: n}, err)
	default:
		got, err := s.store.DeleteKV(r.Context(), key, expect)
		writeResult(w, got, err)
	}
}
