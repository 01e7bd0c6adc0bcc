package control

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/registry"
)

// ResourcesResponse answers GET /api/v1/resources.
type ResourcesResponse struct {
	Revision  int64                `json:"revision"`
	Resources []*registry.Resource `json:"resources"`
}

// PutResourceRequest is the body of PUT /api/v1/resources/{kind}/{name}.
type PutResourceRequest struct {
	Labels map[string]string `json:"labels,omitempty"`
	Spec   json.RawMessage   `json:"spec"`
}

func (s *Server) listKinds(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string][]string{"kinds": Kinds()})
}

func (s *Server) listResources(w http.ResponseWriter, r *http.Request) {
	kind := r.PathValue("kind")
	if kind == "" {
		kind = r.URL.Query().Get("kind")
	}
	if kind != "" {
		if _, ok := LookupKind(kind); !ok {
			writeErr(w, fmt.Errorf("kind %q: %w (known: %s)", kind, ErrUnknownKind, strings.Join(Kinds(), ", ")))
			return
		}
	}
	list, rev, err := s.store.ListResources(r.Context(), kind)
	if err != nil {
		writeErr(w, err)
		return
	}
	if list == nil {
		list = []*registry.Resource{}
	}
	writeJSON(w, http.StatusOK, ResourcesResponse{Revision: rev, Resources: list})
}

func resourceKey(r *http.Request) registry.ResourceKey {
	return registry.ResourceKey{Kind: r.PathValue("kind"), Name: r.PathValue("name")}
}

func (s *Server) getResource(w http.ResponseWriter, r *http.Request) {
	got, err := s.store.GetResource(r.Context(), resourceKey(r))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

// expectParam reads ?expect=<revision>: absent means any revision (-1).
func expectParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("expect")
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, &registry.ValidationError{Field: "expect", Message: "must be a revision (0 for create-only)"}
	}
	return n, nil
}

func (s *Server) putResource(w http.ResponseWriter, r *http.Request) {
	key := resourceKey(r)
	expect, err := expectParam(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	var req PutResourceRequest
	if err := decodeBody(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	if !registry.ValidName(key.Name) {
		writeErr(w, &registry.ValidationError{Field: "name", Message: registry.NameRule})
		return
	}
	spec, err := DecodeSpec(key.Kind, req.Spec)
	if err != nil {
		writeErr(w, err)
		return
	}
	res := &registry.Resource{Kind: key.Kind, Name: key.Name, Labels: req.Labels, Spec: req.Spec}
	if key.Kind == KindCanaryRule {
		s.applyMu.Lock()
		defer s.applyMu.Unlock()
		if err := s.checkCanaryCap(r, key, spec.(*CanaryRule)); err != nil {
			writeErr(w, err)
			return
		}
	}
	got, err := s.store.PutResource(r.Context(), res, expect)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

// checkCanaryCap refuses a new canary when its service already has the
// maximum number of other canaries.
func (s *Server) checkCanaryCap(r *http.Request, key registry.ResourceKey, rule *CanaryRule) error {
	list, _, err := s.store.ListResources(r.Context(), KindCanaryRule)
	if err != nil {
		return err
	}
	ns := orDefault(rule.Namespace, registry.DefaultNamespace)
	others := 0
	for _, res := range list {
		if res.Name == key.Name {
			continue
		}
		other, err := DecodeResource[*CanaryRule](res)
		if err != nil {
			continue // a stored rule that no longer decodes does not hold a slot
		}
		if registry.CanonicalServiceKey(other.Service) == registry.CanonicalServiceKey(rule.Service) &&
			orDefault(other.Namespace, registry.DefaultNamespace) == ns {
			others++
		}
	}
	if others >= s.opts.MaxCanariesPerService {
		return fmt.Errorf("service %q already has %d canary rules, the maximum: delete one first: %w",
			rule.Service, others, registry.ErrConflict)
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *Server) deleteResource(w http.ResponseWriter, r *http.Request) {
	expect, err := expectParam(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	got, err := s.store.DeleteResource(r.Context(), resourceKey(r), expect)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}
