package control

import (
	"net/http"
	"strings"

	"github.com/meshbridge/meshbridge/registry"
)

// ServicesResponse answers GET /api/v1/services.
type ServicesResponse struct {
	Revision int64                     `json:"revision"`
	Services []registry.ServiceSummary `json:"services"`
}

// InstancesResponse answers GET /api/v1/instances.
type InstancesResponse struct {
	Revision  int64                `json:"revision"`
	Instances []*registry.Instance `json:"instances"`
}

// StatusRequest is the body of PUT .../status.
type StatusRequest struct {
	Status registry.Status `json:"status"`
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) {
	svcs, rev, err := s.store.Services(r.Context(), r.URL.Query().Get("namespace"))
	if err != nil {
		writeErr(w, err)
		return
	}
	if svcs == nil {
		svcs = []registry.ServiceSummary{}
	}
	writeJSON(w, http.StatusOK, ServicesResponse{Revision: rev, Services: svcs})
}

// FilterFromQuery reads a registry.Filter from query parameters
// (namespace, group, service, id, origin, label=k=v..., healthy=true).
func FilterFromQuery(q map[string][]string) (registry.Filter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	f := registry.Filter{Namespace: get("namespace"), Group: get("group"), Service: get("service"), ID: get("id"), Origin: get("origin")}
	switch get("healthy") {
	case "", "false":
	case "true":
		f.HealthyOnly = true
	default:
		return f, &registry.ValidationError{Field: "healthy", Message: "must be true or false"}
	}
	for _, l := range q["label"] {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return f, &registry.ValidationError{Field: "label", Message: "must be key=value, got " + l}
		}
		if f.Labels == nil {
			f.Labels = map[string]string{}
		}
		f.Labels[k] = v
	}
	return f, nil
}

func (s *Server) listInstances(w http.ResponseWriter, r *http.Request) {
	f, err := FilterFromQuery(r.URL.Query())
	if err != nil {
		writeErr(w, err)
		return
	}
	list, rev, err := s.store.List(r.Context(), f)
	if err != nil {
		writeErr(w, err)
		return
	}
	if list == nil {
		list = []*registry.Instance{}
	}
	writeJSON(w, http.StatusOK, InstancesResponse{Revision: rev, Instances: list})
}

func (s *Server) registerInstance(w http.ResponseWriter, r *http.Request) {
	var in registry.Instance
	if err := decodeBody(r, &in); err != nil {
		writeErr(w, err)
		return
	}
	if in.Origin == "" {
		in.Origin = registry.OriginControl
	}
	got, err := s.store.Register(r.Context(), &in)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

func instanceKey(r *http.Request) registry.InstanceKey {
	return registry.NewInstanceKey(r.PathValue("namespace"), r.PathValue("group"), r.PathValue("service"), r.PathValue("id"))
}

func (s *Server) getInstance(w http.ResponseWriter, r *http.Request) {
	got, err := s.store.Get(r.Context(), instanceKey(r))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

func (s *Server) deregisterInstance(w http.ResponseWriter, r *http.Request) {
	got, err := s.store.Deregister(r.Context(), instanceKey(r))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

func (s *Server) renewInstance(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Renew(r.Context(), instanceKey(r)); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"renewed": true})
}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request) {
	var req StatusRequest
	if err := decodeBody(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	if !req.Status.Valid() {
		writeErr(w, &registry.ValidationError{Field: "status", Message: "must be one of UP, DOWN, STARTING, OUT_OF_SERVICE, UNKNOWN"})
		return
	}
	got, err := s.store.SetStatusOverride(r.Context(), instanceKey(r), req.Status)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

func (s *Server) clearStatus(w http.ResponseWriter, r *http.Request) {
	got, err := s.store.ClearStatusOverride(r.Context(), instanceKey(r))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}
