package mock

import (
	"fmt"
	"net/http"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// mappingsBody is GET /__admin/mappings's answer.
type mappingsBody struct {
	Mappings []stub.Mapping `json:"mappings"`
	Meta     meta           `json:"meta"`
}

type meta struct {
	Total int `json:"total"`
}

func (s *Server) listMappings(w http.ResponseWriter, r *http.Request) {
	stubs := s.Stubs()
	out := mappingsBody{Mappings: make([]stub.Mapping, 0, len(stubs)), Meta: meta{Total: len(stubs)}}
	for _, st := range limitOffset(r, stubs) {
		out.Mappings = append(out.Mappings, st.Mapping)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getMapping(w http.ResponseWriter, r *http.Request) {
	p, ok := s.current.Load().byID[r.PathValue("id")]
	if !ok {
		writeAdminError(w, http.StatusNotFound, fmt.Sprintf("no stub with id %q", r.PathValue("id")), "")
		return
	}
	writeJSON(w, http.StatusOK, p.stub.Mapping)
}

// compileBody decodes and compiles a mapping sent to the admin API,
// answering the error itself; id, when set, is the path's (PUT). Its
// bodyFileName reads from the first root's __files folder.
func (s *Server) compileBody(w http.ResponseWriter, r *http.Request, id string) (*stub.Stub, bool) {
	body, ok := readBody(w, r)
	if !ok {
		return nil, false
	}
	m, err := stub.DecodeJSON(body)
	if err == nil {
		switch {
		case id != "" && (m.ID != "" && m.ID != id || m.UUID != "" && m.UUID != id):
			err = fmt.Errorf("id: %q differs from the path's %q", m.ID+m.UUID, id)
		case id != "":
			m.ID, m.UUID = id, ""
		case m.ID == "" && m.UUID == "":
			m.ID = newID()
		}
	}
	var st *stub.Stub
	if err == nil {
		st, err = stub.Compile(m, s.bodyFiles())
	}
	if err != nil {
		writeAdminError(w, http.StatusUnprocessableEntity, "invalid stub mapping: "+err.Error(), "/")
		return nil, false
	}
	return st, true
}

func (s *Server) addMapping(w http.ResponseWriter, r *http.Request) {
	st, ok := s.compileBody(w, r, "")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.current.Load().byID[st.ID()]; taken {
		writeAdminError(w, http.StatusConflict, fmt.Sprintf("%v %q: PUT /__admin/mappings/%s replaces a stub", errDuplicateID, st.ID(), st.ID()), "/id")
		return
	}
	err := s.change(func(admin []*placed, removed map[string]bool) ([]*placed, map[string]bool, error) {
		s.adminSeq++
		delete(removed, st.ID())
		return append(admin, &placed{stub: st, origin: originAdmin, source: originAdmin, seq: 1<<40 + s.adminSeq}), removed, nil
	})
	if err != nil {
		writeAdminError(w, http.StatusUnprocessableEntity, err.Error(), "")
		return
	}
	writeJSON(w, http.StatusCreated, st.Mapping)
}

func (s *Server) putMapping(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st, ok := s.compileBody(w, r, id)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, found := s.current.Load().byID[id]
	if !found {
		writeAdminError(w, http.StatusNotFound, fmt.Sprintf("no stub with id %q", id), "")
		return
	}
	err := s.change(func(admin []*placed, removed map[string]bool) ([]*placed, map[string]bool, error) {
		// The stub keeps its place among equals (WireMock edits in place).
		next := &placed{stub: st, origin: originAdmin, source: originAdmin, seq: old.seq}
		for i, p := range admin {
			if p.stub.ID() == id {
				admin[i] = next
				return admin, removed, nil
			}
		}
		return append(admin, next), removed, nil
	})
	if err != nil {
		writeAdminError(w, http.StatusUnprocessableEntity, err.Error(), "")
		return
	}
	writeJSON(w, http.StatusOK, st.Mapping)
}

func (s *Server) removeMapping(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, found := s.current.Load().byID[id]; !found {
		writeAdminError(w, http.StatusNotFound, fmt.Sprintf("no stub with id %q", id), "")
		return
	}
	err := s.change(func(admin []*placed, removed map[string]bool) ([]*placed, map[string]bool, error) {
		kept := admin[:0]
		for _, p := range admin {
			if p.stub.ID() != id {
				kept = append(kept, p)
			}
		}
		removed[id] = true
		return kept, removed, nil
	})
	if err != nil {
		writeAdminError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) removeAllMappings(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.change(func(_ []*placed, removed map[string]bool) ([]*placed, map[string]bool, error) {
		for _, p := range s.defaults {
			removed[p.stub.ID()] = true
		}
		return nil, removed, nil
	})
	if err != nil {
		writeAdminError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
