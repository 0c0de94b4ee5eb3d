package api

import "net/http"

// routesDevice registers the device endpoints.
func (s *Server) routesDevice() {
	s.mux.HandleFunc("POST /api/v1/devices/link", s.handleLinkDevice)
	s.mux.HandleFunc("GET /api/v1/devices", s.handleDevices)
	s.mux.HandleFunc("POST /api/v1/devices/revoke", s.handleRevokeDevice)
}

func (s *Server) handleLinkDevice(w http.ResponseWriter, r *http.Request) {
	var in DeviceLinkInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.LinkDevice(r.Context(), in)
	respond(w, v, err)
}

func (s *Server) handleDevices(w http.ResponseWriter, r *http.Request) {
	v, err := s.b.Devices(r.Context(), r.URL.Query().Get("peer"))
	if v == nil {
		v = []Device{}
	}
	respond(w, v, err)
}

func (s *Server) handleRevokeDevice(w http.ResponseWriter, r *http.Request) {
	var in DeviceRevokeInput
	if !decodeBody(w, r, &in) {
		return
	}
	v, err := s.b.RevokeDevice(r.Context(), in.Device)
	respond(w, v, err)
}
