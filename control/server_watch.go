package control

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
)

// WatchResult answers a long-poll watch: the events after the requested
// index, and the index to ask for next.
type WatchResult struct {
	Index  int64            `json:"index"`
	Events []registry.Event `json:"events"`
}

// maxWatchBatch bounds one long-poll answer; the client asks again at once.
const maxWatchBatch = 1000

// WatchFilterFromQuery reads kinds, service (namespace/group/service or a
// bare name in the defaults), resourceKind and keyPrefix.
func WatchFilterFromQuery(q map[string][]string) (registry.WatchFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var f registry.WatchFilter
	if ks := get("kinds"); ks != "" {
		for _, k := range strings.Split(ks, ",") {
			switch kind := registry.ObjectKind(strings.TrimSpace(k)); kind {
			case registry.KindInstance, registry.KindResource, registry.KindKV:
				f.Kinds = append(f.Kinds, kind)
			default:
				return f, &registry.ValidationError{Field: "kinds", Message: "must be instance, resource or kv, got " + k}
			}
		}
	}
	if svc := get("service"); svc != "" {
		sid := registry.NewInstanceKey(get("namespace"), get("group"), svc, "").Service()
		f.Service = &sid
	}
	f.ResourceKind = get("resourceKind")
	f.KeyPrefix = get("keyPrefix")
	return f, nil
}

func (s *Server) watch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := WatchFilterFromQuery(q)
	if err != nil {
		writeErr(w, err)
		return
	}
	var index int64
	if v := q.Get("index"); v != "" {
		if index, err = strconv.ParseInt(v, 10, 64); err != nil || index < 0 {
			writeErr(w, &registry.ValidationError{Field: "index", Message: "must be a revision"})
			return
		}
	}
	wait := s.opts.DefaultWait
	if v := q.Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 {
			writeErr(w, &registry.ValidationError{Field: "wait", Message: "must be a duration like 30s"})
			return
		}
	}
	wait = min(wait, s.opts.MaxWait)
	if q.Get("stream") == "true" {
		s.stream(w, r, index, f)
		return
	}
	if index == 0 {
		// No starting point: answer at once with the current index.
		writeJSON(w, http.StatusOK, WatchResult{Index: s.store.Revision(), Events: []registry.Event{}})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	watcher, err := s.store.Watch(ctx, index, f)
	if err != nil {
		writeErr(w, err)
		return
	}
	defer watcher.Stop()
	res := WatchResult{Index: index, Events: []registry.Event{}}
	select {
	case e, ok := <-watcher.Events():
		if ok {
			res.Events = append(res.Events, e)
			res.Events = collect(watcher, res.Events)
		}
	case <-ctx.Done():
	case <-serve.DrainSignal(r.Context()):
	}
	// Stop, then take what the watcher already delivered: Progress then
	// tells where the next poll must start so nothing is skipped.
	watcher.Stop()
	for e := range watcher.Events() {
		res.Events = append(res.Events, e)
	}
	if err := watcher.Err(); err != nil {
		writeErr(w, err)
		return
	}
	res.Index = max(index, watcher.Progress())
	if n := len(res.Events); n > 0 {
		res.Index = max(res.Index, res.Events[n-1].Revision)
	}
	writeJSON(w, http.StatusOK, res)
}

// collect adds events that arrive within a millisecond of each other, up to
// maxWatchBatch, so a burst of changes comes back in one answer.
func collect(watcher registry.Watcher, events []registry.Event) []registry.Event {
	timer := time.NewTimer(time.Millisecond)
	defer timer.Stop()
	for len(events) < maxWatchBatch {
		select {
		case e, ok := <-watcher.Events():
			if !ok {
				return events
			}
			events = append(events, e)
		case <-timer.C:
			return events
		}
	}
	return events
}

// stream writes one JSON event per line until the client goes away, with
// a heartbeat line {"index":N} every 15 s so idle proxies keep it open.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, index int64, f registry.WatchFilter) {
	watcher, err := s.store.Watch(r.Context(), index, f)
	if err != nil {
		writeErr(w, err)
		return
	}
	defer watcher.Stop()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush() // the headers now, so the client knows the watch is on
	}
	enc := json.NewEncoder(w)
	beat := time.NewTicker(15 * time.Second)
	defer beat.Stop()
	last := index
	for {
		select {
		case e, ok := <-watcher.Events():
			if !ok {
				if err := watcher.Err(); err != nil {
					_, code := statusFor(err)
					var body ErrorBody
					body.Error.Code, body.Error.Message = code, err.Error()
					_ = enc.Encode(body) // best effort: the stream ends either way
				}
				return
			}
			last = e.Revision
			if enc.Encode(e) != nil {
				return
			}
		case <-beat.C:
			if enc.Encode(map[string]int64{"index": last}) != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-serve.DrainSignal(r.Context()):
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}
