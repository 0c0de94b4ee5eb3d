package node

import (
	"context"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// outcomes derives every practitioner's pairing outcomes in community from
// the pairing records this node holds.
func (l *Local) outcomes(ctx context.Context, community string) (map[record.Author]mentorship.Outcome, error) {
	return map[record.Author]mentorship.Outcome{}, nil
}

// pairParties returns the mentor and mentee of pairing id in community and
// its derived state, or an api.NotFound error if this node knows no such
// pairing.
func (l *Local) pairParties(ctx context.Context, community, id string) (mentor, mentee record.Author, state mentorship.PairState, err error) {
	return mentor, mentee, state, api.NotFound("no pairing " + id)
}
