package node

import (
	"os"
	"strings"
	"testing"
)

// TestWithFileConfigBlamesTheFile checks that a bad address in config.json
// is reported as the file's, with the field and the address, rather than
// as a --bootstrap or --relay flag the user never gave.
func TestWithFileConfigBlamesTheFile(t *testing.T) {
	const good = "/ip4/192.0.2.1/tcp/4747/p2p/12D3KooWPFJ2JvZtCiDgM6ReqArCuVr9AoKYEBVjE86NNT9KSMoj"
	for _, tc := range []struct {
		name, content string
		want          []string // substrings of the error; none: no error
	}{
		{"good", `{"bootstrap": ["` + good + `"], "relays": ["` + good + `"]}`, nil},
		{"bootstrap not a multiaddr", `{"bootstrap": ["nope"]}`, []string{"config.json: bootstrap entry \"nope\" is not a multiaddr", "fix or remove the file"}},
		{"relay without /p2p", `{"relays": ["/ip4/192.0.2.1/tcp/4747"]}`, []string{"config.json: relays entry \"/ip4/192.0.2.1/tcp/4747\" must end in /p2p/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Paths{Dir: t.TempDir()}
			if err := os.WriteFile(p.ConfigFile(), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			opts, err := withFileConfig(p, Options{Bootstrap: []string{good}})
			if tc.want == nil {
				if err != nil || len(opts.Bootstrap) != 1 || len(opts.Relays) != 1 {
					t.Fatalf("withFileConfig = %+v, %v; want one bootstrap peer and one relay, no error", opts, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("withFileConfig = nil error, want one containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("withFileConfig = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "--") {
				t.Errorf("withFileConfig = %q, want no flag named: the address came from the file", err)
			}
		})
	}
}
