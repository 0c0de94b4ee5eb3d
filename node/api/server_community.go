package api

// routesCommunity registers the community endpoints.
func (s *Server) routesCommunity() {}
