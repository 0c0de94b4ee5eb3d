package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/store"
	"github.com/mentormesh/mentormesh/sync/record"
)

// resourceKey names a resource: its author and ID.
type resourceKey struct {
	author record.Author
	id     string
}

func (k resourceKey) String() string { return k.author.String() + "/" + k.id }

// resourceRef is a parsed reference: an ID, and the author if given.
type resourceRef struct {
	author *record.Author
	id     string
	text   string // as given, for messages
}

// parseResourceRef parses "<ID>" or "<author peer ID>/<ID>".
func parseResourceRef(ref string) (resourceRef, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return resourceRef{}, api.BadRequest("give a resource ID (32 hex characters, as 'mentormesh resource list' shows)")
	}
	r := resourceRef{id: ref, text: ref}
	if peer, id, ok := strings.Cut(ref, "/"); ok {
		a, err := record.ParseAuthor(peer)
		if err != nil {
			return resourceRef{}, api.BadRequest(fmt.Sprintf("%q is not a resource reference: %q is not a peer ID (give the ID alone, or AUTHOR_PEER_ID/ID)", ref, peer))
		}
		r.author, r.id = &a, id
	}
	r.id = strings.ToLower(r.id)
	if mentorship.CheckResourceID(r.id) != nil {
		return resourceRef{}, api.BadRequest(fmt.Sprintf("%q is not a resource ID: IDs are 32 hex characters, as 'mentormesh resource list' shows", ref))
	}
	return r, nil
}

func resourceForbidden(msg string) *api.Error {
	return &api.Error{Status: http.StatusForbidden, Code: api.CodeForbidden, Message: msg}
}

// resourceCommunity resolves the community a resource command acts in:
// the one given, which must be joined (reads too, as for profiles, pairings
// and stats: a mistyped --community is told how to join, not shown an
// empty library), or the first joined.
func (l *Local) resourceCommunity(community string) (string, error) {
	if community == "" {
		joined := l.joined()
		if len(joined) == 0 {
			return "", api.BadRequest("this node is in no community; join one first")
		}
		return joined[0], nil
	}
	return community, l.checkJoined(community)
}

// AddResource implements api.Backend.
func (l *Local) AddResource(ctx context.Context, in api.ResourceInput) (api.Resource, error) {
	community, err := l.resourceCommunity(in.Community)
	if err != nil {
		return api.Resource{}, err
	}
	var r mentorship.Resource
	if err := applyResourceInput(&r, in); err != nil {
		return api.Resource{}, err
	}
	payload, err := r.Encode()
	if err != nil {
		return api.Resource{}, api.BadRequest(err.Error())
	}
	addr := record.Addr{Community: community, Author: l.author, Kind: mentorship.KindResource, Key: mentorship.NewResourceID()}
	rec, err := l.write(ctx, addr, 0, false, payload)
	if err != nil {
		return api.Resource{}, err
	}
	return l.resourceView(ctx, rec, nil)
}

// applyResourceInput sets the fields given in in.
func applyResourceInput(r *mentorship.Resource, in api.ResourceInput) error {
	if in.Type != nil {
		t, err := mentorship.ParseResourceType(*in.Type)
		if err != nil {
			return api.BadRequest(err.Error())
		}
		if r.Type == mentorship.ResourceEvent && t != mentorship.ResourceEvent {
			// Turning an event into something else drops what only events
			// have, unless the caller sets it (and is told it is not allowed).
			r.StartsAt, r.EndsAt, r.Place, r.Link = time.Time{}, time.Time{}, "", ""
		}
		r.Type = t
	}
	for _, f := range []struct {
		in  *string
		out *string
	}{
		{in.Title, &r.Title}, {in.URL, &r.URL}, {in.Text, &r.Text}, {in.Description, &r.Description},
		{in.Language, &r.Language}, {in.Place, &r.Place}, {in.Link, &r.Link},
	} {
		if f.in != nil {
			*f.out = *f.in
		}
	}
	if in.Tags != nil {
		r.Tags = *in.Tags
	}
	if in.StartsAt != nil {
		r.StartsAt = *in.StartsAt
	}
	if in.EndsAt != nil {
		r.EndsAt = *in.EndsAt
	}
	return nil
}

// EditResource implements api.Backend.
func (l *Local) EditResource(ctx context.Context, ref string, in api.ResourceInput) (api.Resource, error) {
	community, err := l.resourceCommunity(in.Community)
	if err != nil {
		return api.Resource{}, err
	}
	cur, err := l.ownResource(ctx, community, ref, "edit")
	if err != nil {
		return api.Resource{}, err
	}
	r, err := mentorship.DecodeResource(cur.Payload)
	if err != nil {
		return api.Resource{}, fmt.Errorf("reading resource %s: %w", cur.Key, err)
	}
	if err := applyResourceInput(&r, in); err != nil {
		return api.Resource{}, err
	}
	payload, err := r.Encode()
	if err != nil {
		return api.Resource{}, api.BadRequest(err.Error())
	}
	if bytes.Equal(payload, cur.Payload) {
		return l.resourceView(ctx, cur, nil) // nothing changed: no new version
	}
	rec, err := l.write(ctx, cur.Addr(), cur.Version, false, payload)
	if err != nil {
		return api.Resource{}, err
	}
	return l.resourceView(ctx, rec, nil)
}

// DeleteResource implements api.Backend.
func (l *Local) DeleteResource(ctx context.Context, ref, community string) error {
	community, err := l.resourceCommunity(community)
	if err != nil {
		return err
	}
	cur, err := l.ownResource(ctx, community, ref, "delete")
	if err != nil {
		return err
	}
	_, err = l.write(ctx, cur.Addr(), cur.Version, true, nil)
	return err
}

// ownResource returns the caller's current, live resource that ref names,
// or an error that says why there is none: not theirs (403), deleted or
// unknown (404).
func (l *Local) ownResource(ctx context.Context, community, ref, verb string) (*record.Record, error) {
	r, err := parseResourceRef(ref)
	if err != nil {
		return nil, err
	}
	if r.author != nil && *r.author != l.author {
		return nil, resourceForbidden(fmt.Sprintf("resource %s is by %s; only its author can %s it", r.text, l.authorLabel(ctx, community, *r.author), verb))
	}
	rec, err := l.store.Current(ctx, record.Addr{Community: community, Author: l.author, Kind: mentorship.KindResource, Key: r.id})
	switch {
	case err == nil && rec.Deleted:
		return nil, api.NotFound(fmt.Sprintf("you deleted resource %s already", r.id))
	case err == nil && !rec.Expired(time.Now()):
		return rec, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("reading resource: %w", err)
	}
	others, err := l.findResources(ctx, community, resourceRef{id: r.id})
	if err != nil {
		return nil, err
	}
	for _, o := range others {
		if !o.Deleted && o.Author != l.author {
			return nil, resourceForbidden(fmt.Sprintf("resource %s is by %s; only its author can %s it", r.id, l.authorLabel(ctx, community, o.Author), verb))
		}
	}
	return nil, api.NotFound(fmt.Sprintf("you have no resource %s in community %q ('mentormesh resource list --author self' lists yours)", r.id, community))
}

// findResources returns the current records (tombstones included, expired
// ones not) that ref names in community.
func (l *Local) findResources(ctx context.Context, community string, ref resourceRef) ([]*record.Record, error) {
	now := time.Now()
	if ref.author != nil {
		rec, err := l.store.Current(ctx, record.Addr{Community: community, Author: *ref.author, Kind: mentorship.KindResource, Key: ref.id})
		if errors.Is(err, store.ErrNotFound) || err == nil && rec.Expired(now) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading resource: %w", err)
		}
		return []*record.Record{rec}, nil
	}
	// The store has no index by key alone; the cached resource set has one
	// (built by scanning the community's resources).
	lib, err := l.cachedResourceLibrary(ctx, community)
	if err != nil {
		return nil, err
	}
	var out []*record.Record
	for _, a := range lib.byID[ref.id] {
		rec, err := l.store.Current(ctx, record.Addr{Community: community, Author: a, Kind: mentorship.KindResource, Key: ref.id})
		if errors.Is(err, store.ErrNotFound) || err == nil && rec.Expired(now) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading resource: %w", err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// resolveResource returns the resource ref names: the one live resource
// with that reference or, if there is none, a tombstone of one (so callers
// can say it was deleted). Two live ones are ambiguous.
func (l *Local) resolveResource(ctx context.Context, community, ref string) (*record.Record, error) {
	r, err := parseResourceRef(ref)
	if err != nil {
		return nil, err
	}
	recs, err := l.findResources(ctx, community, r)
	if err != nil {
		return nil, err
	}
	var live, deleted []*record.Record
	for _, rec := range recs {
		if rec.Deleted {
			deleted = append(deleted, rec)
		} else {
			live = append(live, rec)
		}
	}
	switch {
	case len(live) == 1:
		return live[0], nil
	case len(live) > 1:
		refs := make([]string, len(live))
		for i, rec := range live {
			refs[i] = resourceKey{rec.Author, rec.Key}.String()
		}
		return nil, api.BadRequest(fmt.Sprintf("resource ID %s is used by %d authors; name one as AUTHOR/ID: %s", r.id, len(live), strings.Join(refs, ", ")))
	case len(deleted) > 0:
		return deleted[0], nil
	}
	return nil, api.NotFound(fmt.Sprintf("no resource %s in community %q on this node (it may not have reached this node yet; 'mentormesh resource list' shows those it has)", r.text, community))
}

// EndorseResource implements api.Backend.
func (l *Local) EndorseResource(ctx context.Context, ref string, in api.EndorseInput) (api.ResourceDetail, error) {
	community, err := l.resourceCommunity(in.Community)
	if err != nil {
		return api.ResourceDetail{}, err
	}
	res, err := l.resolveResource(ctx, community, ref)
	if err != nil {
		return api.ResourceDetail{}, err
	}
	switch {
	case res.Deleted:
		return api.ResourceDetail{}, api.Conflict(fmt.Sprintf("resource %s was deleted by its author; it can no longer be endorsed", ref))
	case res.Author == l.author:
		return api.ResourceDetail{}, api.BadRequest("you cannot endorse your own resource")
	}
	payload, err := mentorship.Endorsement{Comment: in.Comment}.Encode()
	if err != nil {
		return api.ResourceDetail{}, api.BadRequest(err.Error())
	}
	addr := record.Addr{Community: community, Author: l.author, Kind: mentorship.KindEndorsement,
		Key: mentorship.EndorsementKey(res.Author, res.Key)}
	var version uint64
	cur, err := l.store.Current(ctx, addr)
	switch {
	case err == nil:
		version = cur.Version
	case !errors.Is(err, store.ErrNotFound):
		return api.ResourceDetail{}, fmt.Errorf("reading endorsement: %w", err)
	}
	// Endorsing again with the same comment changes nothing.
	if cur == nil || cur.Deleted || cur.Expired(time.Now()) || !bytes.Equal(cur.Payload, payload) {
		if _, err := l.write(ctx, addr, version, false, payload); err != nil {
			return api.ResourceDetail{}, err
		}
	}
	return l.resourceDetail(ctx, res)
}

// UnendorseResource implements api.Backend. It looks among the caller's
// own endorsements, so an endorsement can be withdrawn even if the
// resource is gone.
func (l *Local) UnendorseResource(ctx context.Context, ref, community string) error {
	community, err := l.resourceCommunity(community)
	if err != nil {
		return err
	}
	r, err := parseResourceRef(ref)
	if err != nil {
		return err
	}
	now := time.Now()
	var found []*record.Record
	err = l.store.List(ctx, store.Query{Community: community, Kind: mentorship.KindEndorsement, Author: &l.author}, func(rec *record.Record) error {
		author, id, err := mentorship.ParseEndorsementKey(rec.Key)
		if err == nil && id == r.id && (r.author == nil || record.Author(author) == *r.author) && !rec.Deleted && !rec.Expired(now) {
			found = append(found, rec)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading endorsements: %w", err)
	}
	switch len(found) {
	case 0:
		return api.NotFound(fmt.Sprintf("you have not endorsed resource %s in community %q", r.text, community))
	case 1:
		_, err = l.write(ctx, found[0].Addr(), found[0].Version, true, nil)
		return err
	default:
		refs := make([]string, len(found))
		for i, rec := range found {
			author, id, _ := mentorship.ParseEndorsementKey(rec.Key)
			refs[i] = resourceKey{record.Author(author), id}.String()
		}
		return api.BadRequest(fmt.Sprintf("you endorsed %d resources with ID %s; name one as AUTHOR/ID: %s", len(found), r.id, strings.Join(refs, ", ")))
	}
}

// authorLabel names an author for messages: "Name (peer ID)" or the peer ID.
func (l *Local) authorLabel(ctx context.Context, community string, author record.Author) string {
	if n := l.resourceAuthorName(ctx, community, author, map[record.Author]string{}); n != "" {
		return fmt.Sprintf("%s (%s)", n, author)
	}
	return author.String()
}

// resourceCounts counts the current resources of community by resource kind
// (article, guide, event...). Types added by later versions count as
// "other".
func (l *Local) resourceCounts(ctx context.Context, community string) (map[string]int, error) {
	lib, err := l.cachedResourceLibrary(ctx, community)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for i := range lib.entries {
		counts[lib.entries[i].Resource.Type.String()]++
	}
	return counts, nil
}
