package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
)

// TestPrintDevicesLegend checks that the "* this device" legend is printed
// only when a row carries the mark: someone else's devices have none.
func TestPrintDevicesLegend(t *testing.T) {
	for _, tt := range []struct {
		name       string
		devs       []api.Device
		wantLegend bool
	}{
		{"yours", []api.Device{{Name: "primary", State: "primary", DeviceID: "A", ThisDevice: true}, {Name: "laptop", State: "linked", DeviceID: "B"}}, true},
		{"someone else's", []api.Device{{Name: "primary", State: "primary", DeviceID: "C"}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printDevices(&b, tt.devs)
			if got := strings.Contains(b.String(), "* this device"); got != tt.wantLegend {
				t.Errorf("printDevices(%s) = %q, legend printed %v, want %v", tt.name, b.String(), got, tt.wantLegend)
			}
		})
	}
}
