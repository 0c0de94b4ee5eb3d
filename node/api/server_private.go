package api

// routesPrivate registers the private endpoints.
func (s *Server) routesPrivate() {}
