package eureka

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/meshbridge/meshbridge/adapters/eureka/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// ready answers 403 while the view has not loaded yet, as the server
// answers 403 while it may not serve the registry (shouldAllowAccess);
// clients retry later.
func (s *Server) ready(w http.ResponseWriter) bool {
	if s.view.isReady() {
		return true
	}
	w.WriteHeader(http.StatusForbidden)
	return false
}

// getApps is GET /apps: the whole registry.
func (s *Server) getApps(w http.ResponseWriter, r *http.Request) {
	if !s.ready(w) {
		return
	}
	f, gz := wantJSON(r), acceptsGzip(r)
	writeDoc(w, f, s.view.current().fullDoc(f, gz), gz)
}

// getDelta is GET /apps/delta.
func (s *Server) getDelta(w http.ResponseWriter, r *http.Request) {
	if s.opts.DisableDelta || !s.ready(w) {
		if s.opts.DisableDelta {
			w.WriteHeader(http.StatusForbidden)
		}
		return
	}
	f, gz := wantJSON(r), acceptsGzip(r)
	d := s.view.deltaDocument(s.opts.Now(), s.opts.DeltaRetention)
	writeDoc(w, f, d.doc(f, gz), gz)
}

// getApp is GET /apps/{APP}; 404 when the app has no instances.
func (s *Server) getApp(w http.ResponseWriter, r *http.Request, app string) {
	if !s.ready(w) {
		return
	}
	snap := s.view.current()
	a := snap.app(app)
	if a == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	f := wantJSON(r)
	writeDoc(w, f, snap.appDoc(a, f), false)
}

// getVIP is GET /vips/{vip} and /svips/{svip}; always 200, possibly empty.
func (s *Server) getVIP(w http.ResponseWriter, r *http.Request, vip string, secure bool) {
	if !s.ready(w) {
		return
	}
	f := wantJSON(r)
	writeDoc(w, f, s.view.current().vipDoc(vip, secure, f), false)
}

// getInstance is GET /apps/{APP}/{ID}, read from the store so a client
// sees its registration at once (fargo reads it back right after POST).
func (s *Server) getInstance(w http.ResponseWriter, r *http.Request, app, id string) {
	inst, err := s.lookup(r.Context(), app, id)
	s.writeInstance(w, r, inst, err)
}

// getInstanceByID is GET /instances/{ID}: the first instance with the ID
// in any app.
func (s *Server) getInstanceByID(w http.ResponseWriter, r *http.Request, id string) {
	list, _, err := s.store.List(r.Context(), registry.Filter{Namespace: s.opts.Namespace, ID: id})
	var inst *registry.Instance
	if err == nil {
		if len(list) == 0 {
			err = registry.ErrNotFound
		} else {
			inst = list[0]
		}
	}
	s.writeInstance(w, r, inst, err)
}

func (s *Server) writeInstance(w http.ResponseWriter, r *http.Request, inst *registry.Instance, err error) {
	switch {
	case errors.Is(err, registry.ErrNotFound):
		w.WriteHeader(http.StatusNotFound)
		return
	case err != nil:
		s.internalError(w, "read instance", err)
		return
	}
	wi := toWire(inst, s.view.actionOf(inst.Key()))
	f := wantJSON(r)
	if f == formatJSON {
		writeDoc(w, f, wire.InstanceDocJSON(wi), false)
	} else {
		writeDoc(w, f, wire.InstanceDocXML(wi), false)
	}
}

// lookup finds an instance of an app by ID: in the default group first
// (where this adapter registers), else in any group of the namespace.
func (s *Server) lookup(ctx context.Context, app, id string) (*registry.Instance, error) {
	inst, err := s.store.Get(ctx, registry.NewInstanceKey(s.opts.Namespace, "", app, id))
	if err == nil || !errors.Is(err, registry.ErrNotFound) {
		return inst, err
	}
	list, _, err := s.store.List(ctx, registry.Filter{Namespace: s.opts.Namespace, Service: app, ID: id})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, registry.ErrNotFound
	}
	return list[0], nil
}

func (s *Server) internalError(w http.ResponseWriter, op string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error(op, "error", err)
	w.WriteHeader(http.StatusInternalServerError)
}

func itoa(n int) string { return strconv.Itoa(n) }
