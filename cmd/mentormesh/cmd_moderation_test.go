package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mentormesh/mentormesh/node/api"
)

// TestBlockCommands runs block, blocks, unblock and steward in process on
// a data directory without a node: usage errors, output, JSON, and the
// round trip.
func TestBlockCommands(t *testing.T) {
	dir := t.TempDir()
	peer := "12D3KooWPFJ2JvZtCiDgM6ReqArCuVr9AoKYEBVjE86NNT9KSMoj"
	steward := "12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK"
	errs := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"block"}, 2, "block takes one PEER_ID"},
		{[]string{"block", "a", "b"}, 2, "block takes one PEER_ID"},
		{[]string{"block", "carol"}, 1, "\"carol\" is not a peer ID"},
		{[]string{"block", peer, "--reason", "two\nlines"}, 1, "reason contains a control character"},
		{[]string{"block", peer, "--publish", "--community", "a", "--community", "b"}, 2, "block --publish takes one --community"},
		{[]string{"unblock"}, 2, "unblock takes one PEER_ID"},
		{[]string{"unblock", peer}, 1, "is not blocked"},
		{[]string{"blocks", "x"}, 2, "blocks takes no arguments"},
		{[]string{"steward", "follow"}, 2, "steward follow takes one PEER_ID"},
		{[]string{"steward", "unfollow", steward}, 1, "you do not follow"},
	}
	for _, tt := range errs {
		_, stderr, code := runCLI(t, dir, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("mentormesh %s: exit %d, stderr %q; want exit %d with %q", strings.Join(tt.args, " "), code, stderr, tt.code, tt.want)
		}
	}
	if out, _, code := runCLI(t, dir, "blocks"); code != 0 || !strings.Contains(out, "No blocked peers") {
		t.Errorf("blocks on an empty store: exit %d, %q", code, out)
	}

	out, stderr, code := runCLI(t, dir, "block", peer, "--reason", "spam", "--publish")
	if code != 0 || !strings.Contains(out, "Blocked "+peer) || !strings.Contains(out, "published in your moderation list in: sociocracy") {
		t.Fatalf("block --publish: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if !strings.Contains(stderr, "No node is running") {
		t.Errorf("block without a node: stderr %q, want the offline note", stderr)
	}
	out, _, code = runCLI(t, dir, "blocks", "--json")
	var bs []api.BlockedPeer
	if code != 0 || json.Unmarshal([]byte(out), &bs) != nil || len(bs) != 1 || bs[0].PeerID != peer ||
		len(bs[0].Sources) != 1 || bs[0].Sources[0].Source != "local" || bs[0].Sources[0].Reason != "spam" {
		t.Errorf("blocks --json: exit %d, %s", code, out)
	}
	if out, _, _ := runCLI(t, dir, "blocks"); !strings.Contains(out, "blocked by you since") || !strings.Contains(out, ": spam") {
		t.Errorf("blocks: %q, want the source, time and reason", out)
	}

	out, _, code = runCLI(t, dir, "steward", "follow", steward)
	if code != 0 || !strings.Contains(out, "Following steward "+steward+" in sociocracy") || !strings.Contains(out, "no moderation list from this steward") {
		t.Errorf("steward follow: exit %d, %q", code, out)
	}
	out, _, code = runCLI(t, dir, "steward", "list", "--json")
	var ss []api.Steward
	if code != 0 || json.Unmarshal([]byte(out), &ss) != nil || len(ss) != 1 || ss[0].PeerID != steward {
		t.Errorf("steward list --json: exit %d, %s", code, out)
	}
	if out, _, code := runCLI(t, dir, "steward", "unfollow", steward); code != 0 || !strings.Contains(out, "No longer following") {
		t.Errorf("steward unfollow: exit %d, %q", code, out)
	}
	if out, _, code := runCLI(t, dir, "unblock", peer); code != 0 || !strings.Contains(out, "Unblocked "+peer) {
		t.Errorf("unblock: exit %d, %q", code, out)
	}
	if out, _, _ := runCLI(t, dir, "blocks", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("blocks --json after unblock: %q, want []", out)
	}
}
