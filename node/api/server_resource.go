package api

// routesResource registers the resource endpoints.
func (s *Server) routesResource() {}
