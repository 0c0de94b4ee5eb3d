// Package api is the node's local HTTP API: the JSON types, the server that
// exposes a Backend on loopback, and the Go client the CLI uses. The same
// Backend interface is implemented in process by the node and over HTTP by
// Client, and one conformance test runs the same operations through both.
package api

import (
	"context"
	"time"
)

// Backend is every operation the CLI and the page perform on a node. It is
// assembled from one interface per area, each declared beside its types.
type Backend interface {
	NodeBackend
	ProfileBackend
	PairingBackend
	PrivateBackend
	ResourceBackend
	CommunityBackend
	ModerationBackend
	EventsBackend
	DataBackend
	DeviceBackend
}

// NodeBackend reports on the node itself.
type NodeBackend interface {
	ID(ctx context.Context) (Identity, error)
	Peers(ctx context.Context) ([]Peer, error)
	Status(ctx context.Context) (Status, error)
}

// ProfileBackend manages profiles, mentor search and community statistics.
type ProfileBackend interface {
	SetProfile(ctx context.Context, in ProfileInput) (Profile, error)
	// DeleteProfile replaces the caller's profile with a signed tombstone in
	// community, or in every joined community if community is "".
	DeleteProfile(ctx context.Context, community string) error
	// Profile returns a practitioner's profile; peerID "" means this node's
	// own. Community "" means the first joined community that has one.
	Profile(ctx context.Context, peerID, community string) (Profile, error)
	// ListProfiles returns the profiles of a community ("" = the first
	// joined), sorted by name, then peer ID.
	ListProfiles(ctx context.Context, community string) ([]Profile, error)
	// FindMentors ranks the mentors of a community for a query
	// (docs/MATCHING.md).
	FindMentors(ctx context.Context, q MentorQuery) (MentorResults, error)
	// Stats summarises a community ("" = the first joined).
	Stats(ctx context.Context, community string) (Stats, error)
}

// Identity answers GET /api/v1/id.
type Identity struct {
	PeerID string `json:"peer_id"`
	// Addrs are full multiaddrs ending in /p2p/<peer_id>; empty when the node
	// is not running.
	Addrs []string `json:"addrs"`
	// DeviceID is set on a linked device: its own peer ID (the one in
	// Addrs), while PeerID is the practitioner it writes for.
	DeviceID string `json:"device_id,omitempty"`
}

// Peer is one connected peer.
type Peer struct {
	PeerID      string   `json:"peer_id"`
	Addrs       []string `json:"addrs"`
	Communities []string `json:"communities"`
	Direction   string   `json:"direction"`
	// Relayed is true when every connection to the peer goes through a
	// circuit relay (no gossip over it; records flow by catch-up).
	Relayed bool `json:"relayed"`
	// LatencyMS is the smoothed round-trip time, 0 if unknown.
	LatencyMS float64 `json:"latency_ms"`
}

// KindCount counts current records of one kind in one community.
type KindCount struct {
	Community  string `json:"community"`
	Kind       string `json:"kind"`
	Records    int    `json:"records"`
	Tombstones int    `json:"tombstones"`
}

// Status answers GET /api/v1/status.
type Status struct {
	PeerID      string      `json:"peer_id"`
	DataDir     string      `json:"data_dir"`
	Running     bool        `json:"running"`
	StartedAt   *time.Time  `json:"started_at,omitempty"`
	Communities []string    `json:"communities"`
	Peers       int         `json:"peers"`
	Records     []KindCount `json:"records"`
	// Outbox counts local writes not yet published to any peer.
	Outbox int `json:"outbox"`
	// Ingest counts records received since start, by verdict.
	Ingest IngestStats `json:"ingest"`
	// Digests fingerprints each community's current records (SHA-256 of
	// their (timestamp, ID) in order, hex): two nodes with the same digest
	// hold exactly the same records.
	Digests map[string]string `json:"digests"`
	// CatchUp is the last reconciliation session with each peer.
	CatchUp []CatchUp `json:"catch_up"`
	// NAT is what NAT traversal found (absent when no node is running).
	NAT *NAT `json:"nat,omitempty"`
}

// NAT describes what NAT traversal found on a running node.
type NAT struct {
	// Reachability is AutoNAT v1's verdict, or the --reachability
	// override: "unknown", "public" or "private".
	Reachability string `json:"reachability"`
	// ReachableAddrs and UnreachableAddrs are the public addresses AutoNAT
	// v2 confirmed or refuted (it tests only addresses at least four peers
	// observed, or that the node listens on).
	ReachableAddrs   []string `json:"reachable_addrs"`
	UnreachableAddrs []string `json:"unreachable_addrs"`
	// HolePunches counts DCUtR hole punches since the node started.
	HolePunches HolePunchStats `json:"hole_punches"`
}

// HolePunchStats counts hole punches, on both sides of each.
type HolePunchStats struct {
	Attempts  int        `json:"attempts"`
	Succeeded int        `json:"succeeded"`
	Last      *HolePunch `json:"last,omitempty"`
}

// HolePunch is the outcome of one hole punch attempt.
type HolePunch struct {
	PeerID    string    `json:"peer_id"`
	Success   bool      `json:"success"`
	At        time.Time `json:"at"`
	ElapsedMS float64   `json:"elapsed_ms"`
	Error     string    `json:"error,omitempty"`
}

// CatchUp describes one reconciliation session with a peer.
type CatchUp struct {
	PeerID    string `json:"peer_id"`
	Community string `json:"community"`
	// OwnRecordsOnly marks the short session over this node's own records
	// that runs first when a peer joins.
	OwnRecordsOnly bool      `json:"own_records_only"`
	Initiated      bool      `json:"initiated"`
	At             time.Time `json:"at"`
	DurationMS     int64     `json:"duration_ms"`
	// Pulled counts records received that were new here and stored.
	Pulled int `json:"pulled"`
	// PulledTotal adds up Pulled over every session with this peer and
	// scope since the node started.
	PulledTotal int `json:"pulled_total"`
	// InProgress marks a progress report of a session still running (only
	// in events: every 2 s while records arrive); Received is then the
	// count so far.
	InProgress    bool   `json:"in_progress,omitempty"`
	Received      int    `json:"received"`
	Sent          int    `json:"sent"`
	RoundTrips    int    `json:"round_trips"`
	BytesSent     int64  `json:"bytes_sent"`
	BytesReceived int64  `json:"bytes_received"`
	Error         string `json:"error,omitempty"`
}

// IngestStats counts ingest outcomes.
type IngestStats struct {
	Accepted uint64 `json:"accepted"`
	Ignored  uint64 `json:"ignored"`
	Rejected uint64 `json:"rejected"`
	// RateLimited counts the ignored records whose author was over its
	// gossip rate limit; OverBudget the messages dropped before
	// validation because their peer sent more than its budget.
	RateLimited uint64 `json:"rate_limited"`
	OverBudget  uint64 `json:"over_budget"`
}

// ProfileInput sets the caller's own profile. Nil fields keep their current
// value, so `profile set --bio ...` changes only the bio; an empty value
// ("" or []) clears a field.
type ProfileInput struct {
	// Community "" means every joined community.
	Community string    `json:"community,omitempty"`
	Name      *string   `json:"name,omitempty"`
	Bio       *string   `json:"bio,omitempty"`
	Skills    *[]string `json:"skills,omitempty"`
	Pronouns  *string   `json:"pronouns,omitempty"`
	// Languages are ISO 639 codes ("en", "de").
	Languages *[]string `json:"languages,omitempty"`
	// TimeZone is an IANA name ("Europe/Berlin") or "UTC+05:30".
	TimeZone  *string   `json:"time_zone,omitempty"`
	Location  *string   `json:"location,omitempty"`
	Interests *[]string `json:"interests,omitempty"`
	// Experience is new, practising, experienced or trainer.
	Experience *string `json:"experience,omitempty"`
	// Roles are mentor, mentee and peer.
	Roles    *[]string `json:"roles,omitempty"`
	Capacity *int      `json:"capacity,omitempty"`
	// Availability is open or closed.
	Availability  *string   `json:"availability,omitempty"`
	HoursPerMonth *int      `json:"hours_per_month,omitempty"`
	Links         *[]string `json:"links,omitempty"`
}

// Profile is a practitioner's profile as seen by this node.
type Profile struct {
	PeerID    string   `json:"peer_id"`
	Community string   `json:"community"`
	Name      string   `json:"name"`
	Bio       string   `json:"bio"`
	Skills    []string `json:"skills"`
	Pronouns  string   `json:"pronouns"`
	Languages []string `json:"languages"`
	TimeZone  string   `json:"time_zone"`
	Location  string   `json:"location"`
	Interests []string `json:"interests"`
	// Experience is "" when not given.
	Experience    string   `json:"experience"`
	Roles         []string `json:"roles"`
	Capacity      int      `json:"capacity"`
	Availability  string   `json:"availability"`
	HoursPerMonth int      `json:"hours_per_month"`
	Links         []string `json:"links"`
	// Mentorships are derived from the pairing records this node holds.
	Mentorships Mentorships `json:"mentorships"`
	Version     uint64      `json:"version"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// Mentorships summarises a practitioner's pairings in a community.
type Mentorships struct {
	// ActiveAsMentor is the number of active mentees.
	ActiveAsMentor    int `json:"active_as_mentor"`
	CompletedAsMentor int `json:"completed_as_mentor"`
	ActiveAsMentee    int `json:"active_as_mentee"`
	CompletedAsMentee int `json:"completed_as_mentee"`
	// Ratings counts the ratings received (either role); AverageRating is
	// their mean, 0 if none.
	Ratings       int     `json:"ratings"`
	AverageRating float64 `json:"average_rating"`
	// FreePlaces is capacity minus active mentees (0 at or over capacity).
	FreePlaces int `json:"free_places"`
}

// MentorQuery asks for mentors (GET /api/v1/mentors). Languages and
// TimeZone default to the asker's own profile's when not given.
type MentorQuery struct {
	Community string   `json:"community,omitempty"`
	Skills    []string `json:"skills"`
	Languages []string `json:"languages"`
	TimeZone  string   `json:"time_zone"`
	// Experience is the minimum level: new, practising, experienced or
	// trainer ("" for any).
	Experience string `json:"experience"`
	// Limit is the number of results, 1 to 100 (0: 10).
	Limit int `json:"limit"`
}

// MentorResults answers GET /api/v1/mentors.
type MentorResults struct {
	Community string `json:"community"`
	// Query is the query as applied, defaults filled in.
	Query MentorQuery `json:"query"`
	// At is when UTC offsets were taken.
	At time.Time `json:"at"`
	// Eligible counts the mentors that passed the filters; Mentors are the
	// best of them, best first.
	Eligible int           `json:"eligible"`
	Mentors  []MentorMatch `json:"mentors"`
	// Suggestions maps each asked skill that no available mentor lists to
	// close tags of the suggested vocabulary, if any.
	Suggestions map[string][]string `json:"suggestions"`
}

// MentorMatch is one ranked mentor.
type MentorMatch struct {
	Rank   int    `json:"rank"`
	PeerID string `json:"peer_id"`
	Name   string `json:"name"`
	// Score is 0 to 100, the sum of the reasons' points.
	Score         float64       `json:"score"`
	Reasons       []MatchReason `json:"reasons"`
	Pronouns      string        `json:"pronouns"`
	Skills        []string      `json:"skills"`
	Interests     []string      `json:"interests"`
	Languages     []string      `json:"languages"`
	TimeZone      string        `json:"time_zone"`
	Experience    string        `json:"experience"`
	Capacity      int           `json:"capacity"`
	FreePlaces    int           `json:"free_places"`
	HoursPerMonth int           `json:"hours_per_month"`
	Completed     int           `json:"completed"`
	Ratings       int           `json:"ratings"`
	AverageRating float64       `json:"average_rating"`
}

// MatchReason explains one factor of a mentor's score.
type MatchReason struct {
	// Factor is skills, language, time_zone, capacity, experience or
	// outcomes.
	Factor string  `json:"factor"`
	Points float64 `json:"points"`
	Text   string  `json:"text"`
}

// Stats answers GET /api/v1/stats: a community's practice in numbers.
type Stats struct {
	Community string `json:"community"`
	// Practitioners counts profiles; Mentors, Mentees and Peers those
	// offering each role.
	Practitioners int `json:"practitioners"`
	Mentors       int `json:"mentors"`
	Mentees       int `json:"mentees"`
	Peers         int `json:"peers"`
	// MentorsWithFreeCapacity counts the mentors a search can find
	// (availability open, a free place); FreePlaces adds up their places.
	MentorsWithFreeCapacity int           `json:"mentors_with_free_capacity"`
	FreePlaces              int           `json:"free_places"`
	Pairings                StatsPairings `json:"pairings"`
	// Ratings counts all ratings given; AverageRating is their mean.
	Ratings       int     `json:"ratings"`
	AverageRating float64 `json:"average_rating"`
	// Resources counts resources by kind (article, guide, event...).
	Resources map[string]int `json:"resources"`
	// TopSkills are the skills most profiles list, at most 10.
	TopSkills []SkillCount `json:"top_skills"`
}

// StatsPairings counts pairings (each once, not once per side).
type StatsPairings struct {
	Active    int `json:"active"`
	Completed int `json:"completed"`
	// Pending counts proposals waiting for an answer.
	Pending *int `json:"pending"`
}

// SkillCount is a skill and the number of profiles listing it.
type SkillCount struct {
	Skill    string `json:"skill"`
	Profiles int    `json:"profiles"`
}
