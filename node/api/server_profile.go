package api

import (
	"net/http"
	"strconv"
)

// routesProfile registers the profile list, mentor search and statistics
// endpoints (setting and showing one profile are in server.go).
func (s *Server) routesProfile() {
	s.mux.HandleFunc("GET /api/v1/profiles", s.handleListProfiles)
	s.mux.HandleFunc("GET /api/v1/mentors", s.handleFindMentors)
	s.mux.HandleFunc("GET /api/v1/stats", s.handleStats)
}

func (s *Server) handleListProfiles(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.ListProfiles(r.Context(), r.URL.Query().Get("community"))
	if v == nil {
		v = []Profile{}
	}
	respond(w, v, err)
}

// handleFindMentors reads the query from the URL:
// ?skill=S&skill=...&lang=L&lang=...&tz=ZONE&experience=E&limit=N&community=C.
func (s *Server) handleFindMentors(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := MentorQuery{
		Community:  v.Get("community"),
		Skills:     v["skill"],
		Languages:  v["lang"],
		TimeZone:   v.Get("tz"),
		Experience: v.Get("experience"),
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			writeError(w, BadRequest("limit "+strconv.Quote(l)+" is not a number"))
			return
		}
		q.Limit = n
	}
	res, err := s.b.FindMentors(r.Context(), q)
	respond(w, res, err)
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Stats(r.Context(), r.URL.Query().Get("community"))
	respond(w, v, err)
}
