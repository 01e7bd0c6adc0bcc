package eureka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/eureka/fields"
	"github.com/meshbridge/meshbridge/adapters/eureka/wire"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
)

// errUnsupportedMedia marks a body that is neither JSON nor XML.
var errUnsupportedMedia = errors.New("unsupported media type")

// register is POST /apps/{APP}: 204 on success, 400 with the server's
// message for a registration it would refuse.
func (s *Server) register(w http.ResponseWriter, r *http.Request, app string) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	in, err := decodeInstance(r.Header.Get("Content-Type"), body)
	switch {
	case errors.Is(err, errUnsupportedMedia):
		writeText(w, http.StatusUnsupportedMediaType, "Unsupported Content-Type: use application/json or application/xml")
		return
	case err != nil:
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	if msg := validateRegistration(in, app); msg != "" {
		writeText(w, http.StatusBadRequest, msg)
		return
	}
	if err := validateKept(in); err != nil {
		writeText(w, http.StatusBadRequest, "Invalid instance: "+err.Error())
		return
	}
	ctx := r.Context()
	now := s.opts.Now()
	key := registry.NewInstanceKey(s.opts.Namespace, "", app, in.ID())
	prev, err := s.store.Get(ctx, key)
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		s.internalError(w, "register: read previous", err)
		return
	}
	// An existing registration with newer data wins over this one; the
	// server then keeps it and only renews its lease.
	if prev != nil && in.LastDirtyTimestamp > 0 && lastDirty(prev) > in.LastDirtyTimestamp {
		if err := s.store.Renew(ctx, key); err != nil && !errors.Is(err, registry.ErrNotFound) {
			s.internalError(w, "register: renew", err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	out, err := s.store.Register(ctx, s.fromWire(in, prev, now))
	switch {
	case errors.Is(err, registry.ErrInvalid):
		writeText(w, http.StatusBadRequest, "Invalid instance: "+err.Error())
		return
	case err != nil:
		s.internalError(w, "register", err)
		return
	}
	s.log.Debug("registered", "app", app, "instance", out.ID, "status", out.Status)
	s.awaitView(ctx, out.Revision)
	w.WriteHeader(http.StatusNoContent)
}

// validateRegistration applies ApplicationResource.addInstance's checks,
// with its messages.
func validateRegistration(in *wire.Instance, app string) string {
	switch {
	case in.ID() == "":
		return "Missing instanceId"
	case in.HostName == "":
		return "Missing hostname"
	case in.IPAddr == "":
		return "Missing ip address"
	case in.App == "":
		return "Missing appName"
	case in.App != app:
		return "Mismatched appName, expecting " + app + " but was " + in.App
	case in.DataCenterInfo == nil:
		return "Missing dataCenterInfo"
	case in.DataCenterInfo.Name == "":
		return "Missing dataCenterInfo Name"
	}
	return ""
}

// validateKept checks what fromWire keeps in forms the store's rule cannot
// see into: ipAddr, which clients connect to as they do to hostName, and
// the Amazon data center metadata, kept as one JSON attribute and shown
// again in the XML view.
func validateKept(in *wire.Instance) error {
	if !registry.ValidHost(in.IPAddr) {
		return &registry.ValidationError{Field: "ipAddr", Message: fmt.Sprintf("%s, got %q", registry.HostRule, in.IPAddr)}
	}
	if dc := in.DataCenterInfo; dc.Name == wire.DataCenterAmazon {
		return registry.ValidateMap("dataCenterInfo.metadata", dc.Metadata)
	}
	return nil
}

// renew is PUT /apps/{APP}/{ID}: 200 with an empty body, or 404 with an
// empty body when the client must register again: the instance is
// unknown, its status is UNKNOWN (an override was deleted), or the
// client's lastDirtyTimestamp is newer than ours (it has changes we lack).
func (s *Server) renew(w http.ResponseWriter, r *http.Request, app, id string) {
	ctx := r.Context()
	dirty, ok := queryMillis(w, r, "lastDirtyTimestamp")
	if !ok {
		return
	}
	inst, err := s.lookup(ctx, app, id)
	if !s.found(w, "renew", err) {
		return
	}
	if eurekaStatus(inst) == registry.StatusUnknown {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if !s.found(w, "renew", s.store.Renew(ctx, inst.Key())) {
		return
	}
	s.renews.add(s.opts.Now())
	if dirty > lastDirty(inst) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// cancel is DELETE /apps/{APP}/{ID}: 200, or 404 when unknown.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request, app, id string) {
	ctx := r.Context()
	inst, err := s.lookup(ctx, app, id)
	if !s.found(w, "cancel", err) {
		return
	}
	out, err := s.store.Deregister(ctx, inst.Key())
	if !s.found(w, "cancel", err) {
		return
	}
	s.awaitGone(ctx, out)
	s.log.Debug("cancelled", "app", app, "instance", out.ID)
	w.WriteHeader(http.StatusOK)
}

// putStatus is PUT /apps/{APP}/{ID}/status?value=S: sets the status
// override (and renews the lease, as the server does).
func (s *Server) putStatus(w http.ResponseWriter, r *http.Request, app, id string) {
	// The server answers a missing or unknown value with 500 (its
	// InstanceStatus.valueOf throws); so do we.
	status := registry.Status(r.URL.Query().Get("value"))
	if !status.Valid() {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("invalid status value %q", status))
		return
	}
	inst, dirty, ok := s.overrideTarget(w, r, "status override", app, id)
	if !ok {
		return
	}
	// Setting the status it already shows changes nothing; UNKNOWN is not
	// an override in the registry model, so it changes nothing either.
	if eurekaStatus(inst) == status || status == registry.StatusUnknown {
		w.WriteHeader(http.StatusOK)
		return
	}
	now := s.opts.Now()
	s.updateOverride(w, r, "status override", inst, func(i *registry.Instance) {
		i.OverriddenStatus = status
		bumpDirty(i, dirty)
		if status == registry.StatusUp && i.Attributes[attrServiceUp] == "" {
			fields.Set(i, attrServiceUp, strconv.FormatInt(now.UnixMilli(), 10))
		}
	})
}

// deleteStatus is DELETE /apps/{APP}/{ID}/status[?value=S]: removes the
// override. As on the server, the status becomes value (UNKNOWN when
// absent), so the client's next heartbeat gets 404 and it registers again
// with its real status. Instances of other protocols only lose the
// override: their own protocol reports their status.
func (s *Server) deleteStatus(w http.ResponseWriter, r *http.Request, app, id string) {
	next := registry.StatusUnknown
	if v := r.URL.Query().Get("value"); v != "" {
		if next = registry.Status(v); !next.Valid() {
			writeText(w, http.StatusInternalServerError, fmt.Sprintf("invalid status value %q", v))
			return
		}
	}
	inst, dirty, ok := s.overrideTarget(w, r, "delete status override", app, id)
	if !ok {
		return
	}
	if inst.OverriddenStatus == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	s.updateOverride(w, r, "delete status override", inst, func(i *registry.Instance) {
		i.OverriddenStatus = ""
		if i.Origin == registry.OriginEureka {
			i.Status = next
		}
		bumpDirty(i, dirty)
	})
}

// overrideTarget does what both status endpoints do first: read
// lastDirtyTimestamp, find the instance, and renew its lease (the server
// renews on a status change). It has answered the request when ok is false.
func (s *Server) overrideTarget(w http.ResponseWriter, r *http.Request, op, app, id string) (inst *registry.Instance, dirty int64, ok bool) {
	if dirty, ok = queryMillis(w, r, "lastDirtyTimestamp"); !ok {
		return nil, 0, false
	}
	inst, err := s.lookup(r.Context(), app, id)
	if !s.found(w, op, err) || !s.found(w, op, s.store.Renew(r.Context(), inst.Key())) {
		return nil, 0, false
	}
	return inst, dirty, true
}

// updateOverride stores the change and answers 200.
func (s *Server) updateOverride(w http.ResponseWriter, r *http.Request, op string, inst *registry.Instance, change func(*registry.Instance)) {
	out, err := s.store.Update(r.Context(), inst.Key(), func(i *registry.Instance) error {
		change(i)
		return nil
	})
	if !s.found(w, op, err) {
		return
	}
	s.awaitView(r.Context(), out.Revision)
	w.WriteHeader(http.StatusOK)
}

// putMetadata is PUT /apps/{APP}/{ID}/metadata?k=v...: merges every query
// parameter (its first value) into the metadata.
func (s *Server) putMetadata(w http.ResponseWriter, r *http.Request, app, id string) {
	ctx := r.Context()
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeText(w, http.StatusBadRequest, "malformed query: "+err.Error())
		return
	}
	inst, err := s.lookup(ctx, app, id)
	if !s.found(w, "update metadata", err) {
		return
	}
	out, err := s.store.Update(ctx, inst.Key(), func(i *registry.Instance) error {
		for k, vs := range q {
			i.SetMetadata(k, vs[0])
			if k == metadataZone {
				i.Zone = vs[0]
			}
		}
		return nil
	})
	if errors.Is(err, registry.ErrInvalid) {
		writeText(w, http.StatusBadRequest, "Invalid metadata: "+err.Error())
		return
	}
	if !s.found(w, "update metadata", err) {
		return
	}
	// The server re-registers the instance, which renews its lease.
	if !s.found(w, "update metadata", s.store.Renew(ctx, out.Key())) {
		return
	}
	s.awaitView(ctx, out.Revision)
	w.WriteHeader(http.StatusOK)
}

// found answers 404 for ErrNotFound and 500 for other errors, and
// reports whether err was nil.
func (s *Server) found(w http.ResponseWriter, op string, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, registry.ErrNotFound):
		w.WriteHeader(http.StatusNotFound)
	default:
		s.internalError(w, op, err)
	}
	return false
}

// awaitView waits (bounded) until bulk reads include revision rev, so a
// client that writes and then fetches sees its write.
func (s *Server) awaitView(ctx context.Context, rev int64) {
	if !s.running.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.WriteVisibleWait)
	defer cancel()
	s.view.waitFor(ctx, rev)
}

// awaitGone waits (bounded) until bulk reads no longer show a removed
// instance. The store's delete revision is not returned, so this waits
// for the instance rather than for a revision.
func (s *Server) awaitGone(ctx context.Context, removed *registry.Instance) {
	if !s.running.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.WriteVisibleWait)
	defer cancel()
	s.view.waitGone(ctx, removed.Key(), removed.Revision)
}

// readBody reads the request body up to the limit: 413 when larger, 408
// when it does not arrive in time, 400 when it cannot be read.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	var tooSlow *serve.BodyTimeoutError
	switch {
	case errors.As(err, &tooLarge):
		writeText(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", tooLarge.Limit))
		return nil, false
	case errors.As(err, &tooSlow):
		writeText(w, http.StatusRequestTimeout, tooSlow.Error())
		return nil, false
	case err != nil:
		writeText(w, http.StatusBadRequest, "cannot read request body: "+err.Error())
		return nil, false
	}
	return body, true
}

// decodeInstance picks the decoder by Content-Type, or by the first byte
// when there is none.
func decodeInstance(contentType string, body []byte) (*wire.Instance, error) {
	ct := strings.ToLower(contentType)
	switch {
	case strings.Contains(ct, "json"):
		return wire.DecodeInstanceJSON(body)
	case strings.Contains(ct, "xml"):
		return wire.DecodeInstanceXML(body)
	case ct == "":
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] == '{' {
			return wire.DecodeInstanceJSON(body)
		}
		if len(trimmed) > 0 && trimmed[0] == '<' {
			return wire.DecodeInstanceXML(body)
		}
	}
	return nil, errUnsupportedMedia
}

// queryMillis parses an optional millisecond timestamp parameter (0 when
// absent); a malformed one is answered with 400.
func queryMillis(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("%s: not a number: %q", name, v))
		return 0, false
	}
	return n, true
}

// bumpDirty raises the instance's lastDirtyTimestamp to dirty when newer.
func bumpDirty(i *registry.Instance, dirty int64) {
	if dirty > lastDirty(i) {
		fields.Set(i, attrLastDirty, strconv.FormatInt(dirty, 10))
	}
}
