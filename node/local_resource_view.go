package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Resource implements api.Backend.
func (l *Local) Resource(ctx context.Context, ref, community string) (api.ResourceDetail, error) {
	community, err := l.resourceCommunity(community)
	if err != nil {
		return api.ResourceDetail{}, err
	}
	rec, err := l.resolveResource(ctx, community, ref)
	if err != nil {
		return api.ResourceDetail{}, err
	}
	if rec.Deleted {
		return api.ResourceDetail{}, api.NotFound(fmt.Sprintf("resource %s was deleted by its author", ref))
	}
	return l.resourceDetail(ctx, rec)
}

// Resources implements api.Backend.
func (l *Local) Resources(ctx context.Context, q api.ResourceQuery) (api.ResourceList, error) {
	community, err := l.resourceCommunity(q.Community)
	if err != nil {
		return api.ResourceList{}, err
	}
	mq := mentorship.ResourceQuery{Text: q.Text, Tag: q.Tag}
	if q.Type != "" {
		if mq.Type, err = mentorship.ParseResourceType(q.Type); err != nil {
			return api.ResourceList{}, api.BadRequest(err.Error())
		}
	}
	if q.Language != "" {
		mq.Language = strings.ToLower(strings.TrimSpace(q.Language))
		if err := mentorship.CheckLanguage(mq.Language); err != nil {
			return api.ResourceList{}, api.BadRequest(err.Error())
		}
	}
	if q.Author != "" {
		a := l.author
		if q.Author != "self" {
			if a, err = record.ParseAuthor(q.Author); err != nil {
				return api.ResourceList{}, api.BadRequest(err.Error())
			}
		}
		key := [32]byte(a)
		mq.Author = &key
	}
	if q.Limit < 0 {
		return api.ResourceList{}, api.BadRequest("limit must be 0 (no limit) or more")
	}
	lib, err := l.cachedResourceLibrary(ctx, community)
	if err != nil {
		return api.ResourceList{}, err
	}
	hits := mentorship.SearchResources(lib.entries, mq)
	out := api.ResourceList{Community: community, Total: len(hits), Resources: []api.Resource{}}
	if q.Limit > 0 && len(hits) > q.Limit {
		hits = hits[:q.Limit]
	}
	names := map[record.Author]string{}
	for _, h := range hits {
		e := h.Entry
		k := resourceKey{record.Author(e.Author), e.ID}
		v := resourceViewOf(community, k, e.Resource, lib.versions[k], e.UpdatedAt)
		v.AuthorName = l.resourceAuthorName(ctx, community, k.author, names)
		v.Endorsements = e.Endorsements
		v.EndorsedByMe = lib.mine[k]
		v.Relevance = h.Relevance
		out.Resources = append(out.Resources, v)
	}
	return out, nil
}

// resourceSet is a community's current resources, ready to search.
type resourceSet struct {
	entries  []mentorship.ResourceEntry
	versions map[resourceKey]uint64
	mine     map[resourceKey]bool // endorsed by this node's user
	// endorsers are the authors of each resource's counted endorsements.
	endorsers map[resourceKey][]record.Author
	// byID are the authors of the unexpired resource records (deleted and
	// blocked ones included) under each resource ID.
	byID map[string][]record.Author
}

// resourceLibrary gathers the live resources of community, as of now,
// with their endorsement counts (local_resource_cache.go keeps them), and
// the earliest expiry among the records that went into them.
func (l *Local) resourceLibrary(ctx context.Context, community string, now time.Time) (lib resourceSet, expires time.Time, err error) {
	lib = resourceSet{versions: map[resourceKey]uint64{}, byID: map[string][]record.Author{}}
	err = l.store.List(ctx, store.Query{Community: community, Kind: mentorship.KindResource}, func(rec *record.Record) error {
		if rec.Expired(now) {
			return nil
		}
		expires = earlier(expires, rec.Expires)
		lib.byID[rec.Key] = append(lib.byID[rec.Key], rec.Author)
		if rec.Deleted || l.blocked(rec.Author) {
			return nil
		}
		r, err := mentorship.DecodeResource(rec.Payload)
		if err != nil {
			return nil // validated before it was stored; a newer rule may refuse it
		}
		lib.entries = append(lib.entries, mentorship.ResourceEntry{Author: rec.Author, ID: rec.Key, Resource: r, UpdatedAt: rec.Timestamp})
		lib.versions[resourceKey{rec.Author, rec.Key}] = rec.Version
		return nil
	})
	if err != nil {
		return lib, expires, fmt.Errorf("reading resources: %w", err)
	}
	endorsers, mine, endorsementsExpire, err := l.endorsements(ctx, community, now)
	if err != nil {
		return lib, expires, err
	}
	expires = earlier(expires, endorsementsExpire)
	for i := range lib.entries {
		e := &lib.entries[i]
		e.Endorsements = len(endorsers[resourceKey{record.Author(e.Author), e.ID}])
	}
	lib.mine, lib.endorsers = mine, endorsers
	return lib, expires, nil
}

// endorsements lists the authors of the live endorsements in community
// per endorsed resource, as of now, leaving out endorsements of one's own
// resource (the key names the resource's author; a writer that endorses
// itself is not counted) and those of blocked peers. mine marks those of
// this node's user; expires is the earliest expiry among them.
func (l *Local) endorsements(ctx context.Context, community string, now time.Time) (endorsers map[resourceKey][]record.Author, mine map[resourceKey]bool, expires time.Time, err error) {
	endorsers, mine = map[resourceKey][]record.Author{}, map[resourceKey]bool{}
	err = l.store.List(ctx, store.Query{Community: community, Kind: mentorship.KindEndorsement}, func(rec *record.Record) error {
		if rec.Deleted || rec.Expired(now) {
			return nil
		}
		author, id, err := mentorship.ParseEndorsementKey(rec.Key)
		if err != nil || record.Author(author) == rec.Author || l.blocked(rec.Author) {
			return nil
		}
		expires = earlier(expires, rec.Expires)
		k := resourceKey{author, id}
		endorsers[k] = append(endorsers[k], rec.Author)
		if rec.Author == l.author {
			mine[k] = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("reading endorsements: %w", err)
	}
	return endorsers, mine, expires, nil
}

// resourceDetail is the view of a live resource with its endorsers.
func (l *Local) resourceDetail(ctx context.Context, rec *record.Record) (api.ResourceDetail, error) {
	names := map[record.Author]string{}
	v, err := l.resourceView(ctx, rec, names)
	if err != nil {
		return api.ResourceDetail{}, err
	}
	d := api.ResourceDetail{Resource: v, Endorsers: []api.Endorser{}}
	lib, err := l.cachedResourceLibrary(ctx, rec.Community)
	if err != nil {
		return api.ResourceDetail{}, err
	}
	key := mentorship.EndorsementKey(rec.Author, rec.Key)
	now := time.Now()
	for _, a := range lib.endorsers[resourceKey{rec.Author, rec.Key}] {
		e, err := l.store.Current(ctx, record.Addr{Community: rec.Community, Author: a, Kind: mentorship.KindEndorsement, Key: key})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return api.ResourceDetail{}, fmt.Errorf("reading endorsements: %w", err)
		}
		if e.Deleted || e.Expired(now) || l.blocked(e.Author) {
			continue
		}
		end, err := mentorship.DecodeEndorsement(e.Payload)
		if err != nil {
			continue
		}
		d.Endorsers = append(d.Endorsers, api.Endorser{
			PeerID: e.Author.String(), Name: l.resourceAuthorName(ctx, rec.Community, e.Author, names),
			Comment: end.Comment, At: e.Timestamp.UTC(),
		})
		if e.Author == l.author {
			d.EndorsedByMe = true
		}
	}
	// The oldest first, ties by peer ID.
	sortEndorsers(d.Endorsers)
	d.Endorsements = len(d.Endorsers)
	return d, nil
}

// resourceView is the view of a live resource record, without endorsement
// counts. names caches author names across calls (nil: no cache).
func (l *Local) resourceView(ctx context.Context, rec *record.Record, names map[record.Author]string) (api.Resource, error) {
	r, err := mentorship.DecodeResource(rec.Payload)
	if err != nil {
		return api.Resource{}, fmt.Errorf("stored resource %s: %w", rec.ID, err)
	}
	if names == nil {
		names = map[record.Author]string{}
	}
	v := resourceViewOf(rec.Community, resourceKey{rec.Author, rec.Key}, r, rec.Version, rec.Timestamp)
	v.AuthorName = l.resourceAuthorName(ctx, rec.Community, rec.Author, names)
	return v, nil
}

func resourceViewOf(community string, k resourceKey, r mentorship.Resource, version uint64, updated time.Time) api.Resource {
	// A copy: r may be the kept set's (local_resource_cache.go).
	tags := slices.Clone(r.Tags)
	if tags == nil {
		tags = []string{}
	}
	v := api.Resource{
		Ref: k.String(), ID: k.id, Author: k.author.String(), Community: community,
		Type: r.Type.String(), Title: r.Title, URL: r.URL, Text: r.Text, Description: r.Description,
		Tags: tags, Language: r.Language, Place: r.Place, Link: r.Link,
		Version: version, UpdatedAt: updated.UTC(),
	}
	if !r.StartsAt.IsZero() {
		t := r.StartsAt.UTC()
		v.StartsAt = &t
	}
	if !r.EndsAt.IsZero() {
		t := r.EndsAt.UTC()
		v.EndsAt = &t
	}
	return v
}

// resourceAuthorName returns author's display name in community ("" if this node
// has no profile of theirs), remembering it in names.
func (l *Local) resourceAuthorName(ctx context.Context, community string, author record.Author, names map[record.Author]string) string {
	if n, ok := names[author]; ok {
		return n
	}
	n := ""
	rec, err := l.store.Current(ctx, record.Addr{Community: community, Author: author, Kind: mentorship.KindProfile})
	if err == nil && !rec.Deleted && !rec.Expired(time.Now()) {
		if p, err := mentorship.DecodeProfile(rec.Payload); err == nil {
			n = p.Name
		}
	}
	names[author] = n
	return n
}

func sortEndorsers(es []api.Endorser) {
	slices.SortFunc(es, func(a, b api.Endorser) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.PeerID, b.PeerID))
	})
}
