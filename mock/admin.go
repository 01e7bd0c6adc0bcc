package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// Admin serves WireMock's admin API under /__admin/ (mount it at the
// root of its listener, or beside the stubs: it answers only /__admin/
// paths):
//
//	GET, POST, DELETE  /__admin/mappings            list, add, remove all
//	GET, PUT, DELETE   /__admin/mappings/{id}       one stub
//	POST               /__admin/mappings/reset      back to the stubs from files
//	GET, DELETE        /__admin/requests            the journal, newest first; clear it
//	GET, DELETE        /__admin/requests/{id}       one entry
//	POST               /__admin/requests/reset      clear the journal
//	POST               /__admin/requests/count      {"count": n} for a request pattern
//	POST               /__admin/requests/find       {"requests": [...]} for a request pattern
//	GET                /__admin/requests/unmatched  the requests no stub answered
//	GET                /__admin/requests/unmatched/near-misses
//	GET                /__admin/scenarios           every scenario and its state
//	POST               /__admin/scenarios/reset     every scenario to Started
//	PUT                /__admin/scenarios/{name}/state
//	POST               /__admin/reset               stubs back to files, journal and scenarios cleared
//	GET                /__admin/health              {"status": "healthy"}
//	GET                /__admin/meshbridge/status   own: stubs, the last load's error, warnings, journal figures
//
// Bodies are bounded (Options.AdminMaxBodyBytes); errors are WireMock's
// {"errors": [{"code", "title", ...}]}.
func (s *Server) Admin() http.Handler {
	mux := http.NewServeMux()
	routes := []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET /__admin/mappings", s.listMappings},
		{"POST /__admin/mappings", s.addMapping},
		{"DELETE /__admin/mappings", s.removeAllMappings},
		{"GET /__admin/mappings/{id}", s.getMapping},
		{"PUT /__admin/mappings/{id}", s.putMapping},
		{"DELETE /__admin/mappings/{id}", s.removeMapping},
		{"POST /__admin/mappings/reset", func(w http.ResponseWriter, _ *http.Request) {
			s.resetMappings()
			writeJSON(w, http.StatusOK, struct{}{})
		}},
		{"GET /__admin/requests", s.listRequests},
		{"DELETE /__admin/requests", s.resetRequests},
		{"POST /__admin/requests/reset", s.resetRequests},
		{"GET /__admin/requests/{id}", s.getRequest},
		{"DELETE /__admin/requests/{id}", s.removeRequest},
		{"POST /__admin/requests/count", s.countRequests},
		{"POST /__admin/requests/find", s.findRequests},
		{"GET /__admin/requests/unmatched", s.unmatchedRequests},
		{"GET /__admin/requests/unmatched/near-misses", s.unmatchedNearMisses},
		{"GET /__admin/scenarios", s.listScenarios},
		{"POST /__admin/scenarios/reset", func(w http.ResponseWriter, _ *http.Request) {
			s.scenarios.reset()
			writeJSON(w, http.StatusOK, struct{}{})
		}},
		{"PUT /__admin/scenarios/{name}/state", s.setScenarioState},
		{"POST /__admin/reset", func(w http.ResponseWriter, _ *http.Request) { s.Reset(); writeJSON(w, http.StatusOK, struct{}{}) }},
		{"GET /__admin/health", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "healthy"})
		}},
		{"GET /__admin/meshbridge/status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.Status()) }},
	}
	for _, r := range routes {
		mux.Handle(r.pattern, r.h)
	}
	mux.HandleFunc("/__admin/", func(w http.ResponseWriter, r *http.Request) {
		writeAdminError(w, http.StatusNotFound, "no admin resource "+r.Method+" "+r.URL.Path, "")
	})
	limit := s.opts.AdminMaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		mux.ServeHTTP(w, r)
	})
}

// readBody reads a bounded admin body, answering the error itself; ok is
// false when it did.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeAdminError(w, http.StatusRequestEntityTooLarge, err.Error(), "")
		}
		return nil, false
	}
	return body, true
}

// limitOffset applies WireMock's limit and offset query parameters.
func limitOffset[T any](r *http.Request, items []T) []T {
	if off, err := strconv.Atoi(r.URL.Query().Get("offset")); err == nil && off > 0 {
		items = items[min(off, len(items)):]
	}
	if lim, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && lim >= 0 {
		items = items[:min(lim, len(items))]
	}
	return items
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeAdminError(w, http.StatusInternalServerError, "encode: "+err.Error(), "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

// Codes in WireMock's error shape: 10 is its code for a body it could
// not take; the others are the HTTP status.
const codeInvalid = 10

func writeAdminError(w http.ResponseWriter, status int, title, pointer string) {
	e := adminError{Code: status, Title: title}
	if status == http.StatusUnprocessableEntity {
		e.Code = codeInvalid
	}
	if pointer != "" {
		e.Source = &errorSource{Pointer: pointer}
	}
	writeJSON(w, status, errorsBody{Errors: []adminError{e}})
}

// decodeStrict decodes one JSON value, refusing unknown fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}
