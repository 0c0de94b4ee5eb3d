package api

import (
	"net/http"
	"strconv"
)

// routesResource registers the resource endpoints. {ref} is a resource ID
// or "<author peer ID>/<ID>" with the slash escaped as %2F.
func (s *Server) routesResource() {
	s.mux.HandleFunc("POST /api/v1/resources", s.handleAddResource)
	s.mux.HandleFunc("GET /api/v1/resources", s.handleResources)
	s.mux.HandleFunc("GET /api/v1/resources/{ref}", s.handleResource)
	s.mux.HandleFunc("PUT /api/v1/resources/{ref}", s.handleEditResource)
	s.mux.HandleFunc("DELETE /api/v1/resources/{ref}", s.handleDeleteResource)
	s.mux.HandleFunc("POST /api/v1/resources/{ref}/endorsement", s.handleEndorseResource)
	s.mux.HandleFunc("DELETE /api/v1/resources/{ref}/endorsement", s.handleUnendorseResource)
}

func (s *Server) handleAddResource(w http.ResponseWriter, r *http.Request) {
	var in ResourceInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.AddResource(r.Context(), in)
	respond(w, v, err)
}

func (s *Server) handleEditResource(w http.ResponseWriter, r *http.Request) {
	var in ResourceInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.EditResource(r.Context(), r.PathValue("ref"), in)
	respond(w, v, err)
}

func (s *Server) handleDeleteResource(w http.ResponseWriter, r *http.Request) {
	err := s.b.DeleteResource(r.Context(), r.PathValue("ref"), r.URL.Query().Get("community"))
	respond(w, map[string]string{"status": "deleted"}, err)
}

func (s *Server) handleResources(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query()
	q := ResourceQuery{
		Community: p.Get("community"),
		Text:      p.Get("q"),
		Tag:       p.Get("tag"),
		Type:      p.Get("type"),
		Language:  p.Get("lang"),
		Author:    p.Get("author"),
	}
	if l := p.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			writeError(w, BadRequest("limit must be a number, 0 or more (0: no limit)"))
			return
		}
		q.Limit = n
	}
	v, err := s.b.Resources(r.Context(), q)
	respond(w, v, err)
}

func (s *Server) handleResource(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Resource(r.Context(), r.PathValue("ref"), r.URL.Query().Get("community"))
	respond(w, v, err)
}

func (s *Server) handleEndorseResource(w http.ResponseWriter, r *http.Request) {
	var in EndorseInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.EndorseResource(r.Context(), r.PathValue("ref"), in)
	respond(w, v, err)
}

func (s *Server) handleUnendorseResource(w http.ResponseWriter, r *http.Request) {
	err := s.b.UnendorseResource(r.Context(), r.PathValue("ref"), r.URL.Query().Get("community"))
	respond(w, map[string]string{"status": "withdrawn"}, err)
}
