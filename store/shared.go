package store

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/mentormesh/mentormesh/sync/record"
)

// fmtAddr names an address in error messages.
func fmtAddr(a record.Addr) string {
	return fmt.Sprintf("%s/%s/%s/%q", a.Community, a.Kind, a.Author, a.Key)
}

// counter accumulates Counts.
type counter struct {
	m map[[2]string]*KindCount
}

func (c *counter) add(community, kind string, deleted bool) {
	if c.m == nil {
		c.m = make(map[[2]string]*KindCount)
	}
	kc := c.m[[2]string{community, kind}]
	if kc == nil {
		kc = &KindCount{Community: community, Kind: kind}
		c.m[[2]string{community, kind}] = kc
	}
	if deleted {
		kc.Tombstones++
	} else {
		kc.Live++
	}
}

// result returns the counts sorted by community, then kind.
func (c *counter) result() []KindCount {
	out := make([]KindCount, 0, len(c.m))
	for _, kc := range c.m {
		out = append(out, *kc)
	}
	slices.SortFunc(out, func(a, b KindCount) int {
		return cmp.Or(cmp.Compare(a.Community, b.Community), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

// sortPeers orders peers most recently seen first, then by ID.
func sortPeers(peers []PeerInfo) {
	slices.SortFunc(peers, func(a, b PeerInfo) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(a.ID, b.ID))
	})
}
