package api

import "net/http"

// routesCommunity registers the community endpoints.
func (s *Server) routesCommunity() {
	s.mux.HandleFunc("GET /api/v1/communities", s.handleCommunities)
	s.mux.HandleFunc("POST /api/v1/communities", s.handleJoinCommunity)
	s.mux.HandleFunc("DELETE /api/v1/communities/{name}", s.handleLeaveCommunity)
}

func (s *Server) handleCommunities(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Communities(r.Context())
	respond(w, v, err)
}

func (s *Server) handleJoinCommunity(w http.ResponseWriter, r *http.Request) {
	var in CommunityInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.JoinCommunity(r.Context(), in.Name)
	respond(w, v, err)
}

func (s *Server) handleLeaveCommunity(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.LeaveCommunity(r.Context(), r.PathValue("name"))
	respond(w, v, err)
}
