package api

// routesPairing registers the pairing endpoints.
func (s *Server) routesPairing() {}
