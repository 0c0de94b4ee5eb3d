package api

import "net/http"

// routesModeration registers the block and steward endpoints.
func (s *Server) routesModeration() {
	s.mux.HandleFunc("POST /api/v1/blocks", s.handleBlock)
	s.mux.HandleFunc("GET /api/v1/blocks", s.handleBlocks)
	s.mux.HandleFunc("DELETE /api/v1/blocks/{peer}", s.handleUnblock)
	s.mux.HandleFunc("POST /api/v1/stewards", s.handleFollowSteward)
	s.mux.HandleFunc("GET /api/v1/stewards", s.handleStewards)
	s.mux.HandleFunc("DELETE /api/v1/stewards/{peer}", s.handleUnfollowSteward)
}

func (s *Server) handleBlock(w http.ResponseWriter, r *http.Request) {
	var in BlockInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.Block(r.Context(), in)
	respond(w, v, err)
}

func (s *Server) handleBlocks(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Blocks(r.Context())
	if v == nil {
		v = []BlockedPeer{}
	}
	respond(w, v, err)
}

func (s *Server) handleUnblock(w http.ResponseWriter, r *http.Request) {
	err := s.b.Unblock(r.Context(), r.PathValue("peer"))
	respond(w, map[string]string{"status": "unblocked"}, err)
}

func (s *Server) handleFollowSteward(w http.ResponseWriter, r *http.Request) {
	var in StewardInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.FollowSteward(r.Context(), in)
	respond(w, v, err)
}

func (s *Server) handleStewards(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Stewards(r.Context())
	if v == nil {
		v = []Steward{}
	}
	respond(w, v, err)
}

func (s *Server) handleUnfollowSteward(w http.ResponseWriter, r *http.Request) {
	err := s.b.UnfollowSteward(r.Context(), r.PathValue("peer"), r.URL.Query().Get("community"))
	respond(w, map[string]string{"status": "unfollowed"}, err)
}
