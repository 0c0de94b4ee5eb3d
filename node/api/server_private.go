package api

import "net/http"

// routesPrivate registers the endpoints of what is private to a pairing.
func (s *Server) routesPrivate() {
	s.mux.HandleFunc("GET /api/v1/pairings/{id}/items", s.handlePairItems)
	s.mux.HandleFunc("POST /api/v1/pairings/{id}/goals", s.handleAddGoal)
	s.mux.HandleFunc("PUT /api/v1/pairings/{id}/goals/{item}", s.handleUpdateGoal)
	s.mux.HandleFunc("POST /api/v1/pairings/{id}/sessions", s.handleLogSession)
	s.mux.HandleFunc("POST /api/v1/pairings/{id}/notes", s.handleAddNote)
	s.mux.HandleFunc("PUT /api/v1/pairings/{id}/contact", s.handleSetContact)
}

func (s *Server) handlePairItems(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.PairItems(r.Context(), r.URL.Query().Get("community"), r.PathValue("id"))
	respond(w, v, err)
}

func (s *Server) handleAddGoal(w http.ResponseWriter, r *http.Request) {
	var in GoalInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.AddGoal(r.Context(), r.PathValue("id"), in)
	respond(w, v, err)
}

func (s *Server) handleUpdateGoal(w http.ResponseWriter, r *http.Request) {
	var in GoalUpdate
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.UpdateGoal(r.Context(), r.PathValue("id"), r.PathValue("item"), in)
	respond(w, v, err)
}

func (s *Server) handleLogSession(w http.ResponseWriter, r *http.Request) {
	var in SessionInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.LogSession(r.Context(), r.PathValue("id"), in)
	respond(w, v, err)
}

func (s *Server) handleAddNote(w http.ResponseWriter, r *http.Request) {
	var in NoteInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.AddNote(r.Context(), r.PathValue("id"), in)
	respond(w, v, err)
}

func (s *Server) handleSetContact(w http.ResponseWriter, r *http.Request) {
	var in ContactInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.SetContact(r.Context(), r.PathValue("id"), in)
	respond(w, v, err)
}
