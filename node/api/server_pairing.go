package api

import (
	"context"
	"net/http"
)

// routesPairing registers the pairing endpoints.
func (s *Server) routesPairing() {
	s.mux.HandleFunc("POST /api/v1/pairings", s.handleProposePairing)
	s.mux.HandleFunc("GET /api/v1/pairings", s.handlePairings)
	s.mux.HandleFunc("GET /api/v1/pairings/{id}", s.handlePairing)
	s.mux.HandleFunc("POST /api/v1/pairings/{id}/accept", s.pairingAction(s.b.AcceptPairing))
	s.mux.HandleFunc("POST /api/v1/pairings/{id}/decline", s.pairingAction(s.b.DeclinePairing))
	s.mux.HandleFunc("POST /api/v1/pairings/{id}/cancel", s.pairingAction(s.b.CancelPairing))
	s.mux.HandleFunc("POST /api/v1/pairings/{id}/complete", s.pairingAction(s.b.CompletePairing))
}

func (s *Server) handleProposePairing(w http.ResponseWriter, r *http.Request) {
	var in PairingProposal
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.ProposePairing(r.Context(), in)
	respond(w, v, err)
}

func (s *Server) handlePairings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v, err := s.b.Pairings(r.Context(), PairingQuery{Community: q.Get("community"), State: q.Get("state")})
	if v == nil {
		v = []Pairing{}
	}
	respond(w, v, err)
}

func (s *Server) handlePairing(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Pairing(r.Context(), r.PathValue("id"), r.URL.Query().Get("community"))
	respond(w, v, err)
}

// pairingAction serves one of accept, decline, cancel and complete. An
// empty body is an update with no fields.
func (s *Server) pairingAction(do func(context.Context, string, PairingUpdate) (Pairing, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in PairingUpdate
		if r.ContentLength != 0 && !decodeBody(w, r, &in) {
			return
		}
		v, err := do(r.Context(), r.PathValue("id"), in)
		respond(w, v, err)
	}
}
