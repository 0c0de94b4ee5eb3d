package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentormesh/mentormesh/mentorship"
	"github.com/mentormesh/mentormesh/node/api"
	"github.com/mentormesh/mentormesh/sync/record"
)

// Export, import, backup and restore, on real data directories.

const otherCommunity = "facilitators"

// openOfflineT opens dir without a node, in the default community and
// otherCommunity; it is closed when the test ends (closing twice is
// harmless).
func openOfflineT(t *testing.T, dir string) *Offline {
	t.Helper()
	off, err := OpenOffline(dir, "test", []string{DefaultCommunity, otherCommunity})
	if err != nil {
		t.Fatalf("OpenOffline: %v", err)
	}
	t.Cleanup(func() { off.Close() })
	return off
}

// copyIdentity gives the data directory dst the identity of src.
func copyIdentity(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(src, "identity.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "identity.key"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// testAuthor signs arbitrary records of one author.
type testAuthor struct {
	key    ed25519.PrivateKey
	author record.Author
}

func newTestAuthor(seed string) testAuthor {
	s := make([]byte, ed25519.SeedSize)
	copy(s, seed)
	key := ed25519.NewKeyFromSeed(s)
	var a testAuthor
	a.key = key
	copy(a.author[:], key.Public().(ed25519.PublicKey))
	return a
}

// profile signs a profile record of a in community; edit may change the
// body before signing.
func (a testAuthor) profile(t *testing.T, community string, version uint64, name string, edit func(*record.Body)) *record.Record {
	t.Helper()
	payload, err := mentorship.Profile{Name: name}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b := record.Body{Community: community, Author: a.author, Kind: mentorship.KindProfile,
		Version: version, Timestamp: record.Now(), Payload: payload}
	if edit != nil {
		edit(&b)
	}
	rec, err := record.Sign(a.key, b)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// exportDoc builds an export document of entries.
func exportDoc(t *testing.T, entries ...api.ExportRecord) []byte {
	t.Helper()
	doc := api.ExportDocument{Format: api.ExportFormat, Version: api.ExportVersion, Scope: api.ScopeAll,
		ExportedAt: time.Now().UTC(), Records: entries}
	if doc.Records == nil {
		doc.Records = []api.ExportRecord{}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func entries(recs ...*record.Record) []api.ExportRecord {
	out := make([]api.ExportRecord, len(recs))
	for i, r := range recs {
		out[i] = exportRecordOf(r)
	}
	return out
}

func exportOf(t *testing.T, l *Local, all bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	res, err := l.Export(context.Background(), api.ExportOptions{All: all}, &buf)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	_, n, err := CheckExport(bytes.NewReader(buf.Bytes()))
	if err != nil || n != res.Records {
		t.Fatalf("the export does not read back: %d of %d records, %v", n, res.Records, err)
	}
	return buf.Bytes()
}

func importDoc(t *testing.T, l *Local, doc []byte) api.ImportSummary {
	t.Helper()
	sum, err := l.Import(context.Background(), bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return sum
}

// snapshot is what two data directories holding the same data agree on.
type snapshot struct {
	Records []api.KindCount
	Digests map[string]string
	Outbox  int
}

func snapshotOf(t *testing.T, l *Local) snapshot {
	t.Helper()
	st, err := l.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{Records: st.Records, Digests: st.Digests, Outbox: st.Outbox}
}

func (s snapshot) String() string {
	return fmt.Sprintf("records %+v, digests %v, outbox %d", s.Records, s.Digests, s.Outbox)
}

// populate writes the user's profile in both communities (then deletes
// one), and stores 40 profiles of others as if from peers.
func populate(t *testing.T, off *Offline) []*record.Record {
	t.Helper()
	ctx := context.Background()
	name := "Ada"
	if _, err := off.SetProfile(ctx, api.ProfileInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	bio := "facilitator"
	if _, err := off.SetProfile(ctx, api.ProfileInput{Bio: &bio}); err != nil {
		t.Fatal(err)
	}
	if err := off.DeleteProfile(ctx, otherCommunity); err != nil {
		t.Fatal(err)
	}
	var others []*record.Record
	for i := range 40 {
		c := DefaultCommunity
		if i%4 == 0 {
			c = otherCommunity
		}
		others = append(others, newTestAuthor(fmt.Sprintf("peer %d", i)).profile(t, c, 1, fmt.Sprintf("Peer %d", i), nil))
	}
	if _, err := off.store.ApplyBatch(ctx, others); err != nil {
		t.Fatal(err)
	}
	return others
}

// TestExportImportRoundTrip: an export of everything, imported into a
// fresh data directory of another identity, gives the same records (equal
// digests and counts), none of them queued for publishing; importing it
// again changes nothing. The default export holds only one's own records.
func TestExportImportRoundTrip(t *testing.T) {
	a := openOfflineT(t, t.TempDir())
	others := populate(t, a)

	own := exportOf(t, a.Local, false)
	var doc api.ExportDocument
	if err := json.Unmarshal(own, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Scope != api.ScopeOwn || doc.PeerID != a.author.String() || len(doc.Records) != 2 {
		t.Fatalf("own export: scope %q, peer %s, %d records; want own, %s, 2 (a profile and a tombstone)", doc.Scope, doc.PeerID, len(doc.Records), a.author)
	}
	for _, e := range doc.Records {
		if e.Author != a.author.String() {
			t.Errorf("own export holds a record by %s", e.Author)
		}
	}

	all := exportOf(t, a.Local, true)
	b := openOfflineT(t, t.TempDir())
	sum := importDoc(t, b.Local, all)
	want := api.ImportSummary{ExportedBy: a.author.String(), Read: len(others) + 2, Imported: len(others) + 2, Problems: []api.ImportProblem{}}
	if fmt.Sprint(sum) != fmt.Sprint(want) {
		t.Errorf("Import = %+v, want %+v", sum, want)
	}
	wantSnap := snapshotOf(t, a.Local)
	wantSnap.Outbox = 0 // b publishes nothing: none of the records is its own
	if got := snapshotOf(t, b.Local); got.String() != wantSnap.String() {
		t.Errorf("after import:\n got %s\nwant %s", got, wantSnap)
	}

	again := importDoc(t, b.Local, all)
	if again.AlreadyCurrent != len(others)+2 || again.Imported != 0 {
		t.Errorf("importing again = %+v, want all %d already current", again, len(others)+2)
	}
}

// TestImportRestoresOwnRecords is the laptop-loss case: a fresh data
// directory with the old identity key imports the user's export; their
// records are back, current, and in the outbox to be published again.
func TestImportRestoresOwnRecords(t *testing.T) {
	oldDir := t.TempDir()
	a := openOfflineT(t, oldDir)
	populate(t, a)
	own := exportOf(t, a.Local, false)
	wantProfile, err := a.Profile(context.Background(), "", DefaultCommunity)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	newDir := t.TempDir()
	copyIdentity(t, oldDir, newDir)
	c := openOfflineT(t, newDir)
	sum := importDoc(t, c.Local, own)
	if sum.Imported != 2 || sum.Republished != 2 {
		t.Fatalf("Import = %+v, want 2 imported and republished", sum)
	}
	got, err := c.Profile(context.Background(), "", DefaultCommunity)
	if err != nil || got.Name != wantProfile.Name || got.Bio != wantProfile.Bio || got.Version != wantProfile.Version {
		t.Errorf("profile after restore = %+v, %v; want %+v", got, err, wantProfile)
	}
	var queued []string
	err = c.store.Outbox(context.Background(), func(r *record.Record) error {
		queued = append(queued, r.Community)
		return nil
	})
	if err != nil || len(queued) != 2 {
		t.Errorf("outbox after restoring own records = %v, %v; want both records (profile and tombstone)", queued, err)
	}
	// The next write continues from the restored version, instead of
	// starting again at 1 where every peer would ignore it as stale.
	name := "Ada L."
	p, err := c.SetProfile(context.Background(), api.ProfileInput{Community: DefaultCommunity, Name: &name})
	if err != nil || p.Version != wantProfile.Version+1 {
		t.Errorf("write after restore = version %d, %v; want %d", p.Version, err, wantProfile.Version+1)
	}
}

// TestImportOutcomes: every record of a document gets the verdict a peer's
// would; rejected and skipped records are reported with a reason, and
// nothing of them is stored.
func TestImportOutcomes(t *testing.T) {
	d := openOfflineT(t, t.TempDir())
	ctx := context.Background()
	p := newTestAuthor("importer peer")
	good := p.profile(t, DefaultCommunity, 2, "Good", nil)
	older := p.profile(t, DefaultCommunity, 1, "Older", nil)
	forgedRaw := bytes.Clone(newTestAuthor("forger").profile(t, DefaultCommunity, 1, "Forged", nil).Raw)
	forgedRaw[len(forgedRaw)-1] ^= 1
	forged := api.ExportRecord{Signed: forgedRaw}
	notJoined := newTestAuthor("elsewhere").profile(t, "knitting", 1, "Elsewhere", nil)
	future := newTestAuthor("clock ahead").profile(t, DefaultCommunity, 1, "Future", func(b *record.Body) {
		b.Timestamp = record.Now().Add(time.Hour)
	})
	unknownKind := newTestAuthor("newer version").profile(t, DefaultCommunity, 1, "x", func(b *record.Body) { b.Kind = "hologram" })
	badPayload := newTestAuthor("bad payload").profile(t, DefaultCommunity, 1, "x", func(b *record.Body) { b.Payload = []byte{0xff, 0xff} })
	edited := exportRecordOf(newTestAuthor("edited").profile(t, DefaultCommunity, 1, "Edited", nil))
	edited.Version = 7
	garbage := api.ExportRecord{Signed: []byte("not a record")}

	doc := exportDoc(t, append(entries(good, good, older, notJoined, future, unknownKind, badPayload),
		forged, edited, garbage)...)
	sum := importDoc(t, d.Local, doc)
	outcomes := map[int]string{}
	for _, pr := range sum.Problems {
		outcomes[pr.Index] = pr.Outcome + ": " + pr.Reason
	}
	t.Logf("summary: %+v", sum)
	checks := []struct {
		index int
		want  string
	}{
		{3, "skipped: community not joined"},
		{4, "skipped: timestamp too far in the future"},
		{5, "skipped: unknown record kind"},
		{6, "rejected: invalid payload"},
		{7, "rejected: signature does not verify"},
		{8, "rejected: version disagree(s) with the signed bytes"},
		{9, "rejected: malformed record"},
	}
	for _, c := range checks {
		if !strings.HasPrefix(outcomes[c.index], c.want) {
			t.Errorf("record %d: %q, want %q...", c.index, outcomes[c.index], c.want)
		}
	}
	want := api.ImportSummary{Read: 10, Imported: 1, AlreadyCurrent: 1, Stale: 1, Skipped: 3, Rejected: 4}
	sum.Problems, sum.ExportedBy = nil, ""
	if fmt.Sprint(sum) != fmt.Sprint(want) {
		t.Errorf("Import = %+v, want %+v", sum, want)
	}
	counts, err := d.store.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts[0].Live != 1 {
		t.Errorf("store holds %+v after the import, want only the good record", counts)
	}
	if cur, err := d.store.Current(ctx, good.Addr()); err != nil || cur.ID != good.ID {
		t.Errorf("current record at the good address = %v, %v; want version 2", cur, err)
	}
}

// TestImportRefusesMalformed: documents that are not well-formed exports
// are refused by CheckExport (which the CLI runs before importing) and by
// Import, with a message that says what is wrong, and write nothing.
func TestImportRefusesMalformed(t *testing.T) {
	p := newTestAuthor("malformed")
	rec := p.profile(t, DefaultCommunity, 1, "Fine", nil)
	good := exportDoc(t, entries(rec)...)
	huge := exportDoc(t, api.ExportRecord{Signed: bytes.Repeat([]byte{1}, api.MaxImportEntry)})
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "ends in the middle of the document"},
		{"not JSON", "hello", "invalid character"},
		{"an array", "[]", "expected"},
		{"truncated", string(good[:len(good)-20]), "ends in the middle"},
		{"no format", `{"version":1,"records":[]}`, `does not start with "format"`},
		{"other format", `{"format":"something","version":1,"records":[]}`, `does not start with "format"`},
		{"newer version", `{"format":"mentormesh-export","version":2,"records":[]}`, "version 2"},
		{"no records", `{"format":"mentormesh-export","version":1}`, `no "records"`},
		{"records twice", `{"format":"mentormesh-export","version":1,"records":[],"records":[]}`, "twice"},
		{"records not an array", `{"format":"mentormesh-export","version":1,"records":{}}`, "expected"},
		{"trailing data", string(good) + "{}", "after the end"},
		{"entry too large", string(huge), "larger than"},
		{"entry of the wrong type", `{"format":"mentormesh-export","version":1,"records":[{"signed":5}]}`, "record 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := CheckExport(strings.NewReader(tt.doc)); !errors.Is(err, ErrBadExport) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckExport = %v, want ErrBadExport saying %q", err, tt.want)
			}
			d := openOfflineT(t, t.TempDir())
			_, err := d.Import(context.Background(), strings.NewReader(tt.doc))
			var apiErr *api.Error
			if !errors.As(err, &apiErr) || apiErr.Code != api.CodeBadRequest || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Import = %v, want a bad request saying %q", err, tt.want)
			}
			if tt.name != "trailing data" { // the one whole record before the fault is imported
				if n := len(snapshotOf(t, d.Local).Records); n != 0 {
					t.Errorf("store holds records after a refused import")
				}
			}
		})
	}
}

// TestImportAppliesDeviceRules: Import refuses what the node refuses from
// a peer: a device-signed record of a root-only kind (a private item) is
// rejected, and a record signed by a device its author revoked is skipped.
func TestImportAppliesDeviceRules(t *testing.T) {
	d := openOfflineT(t, t.TempDir())
	p, dev, partner := newTestAuthor("importer practitioner"), newTestAuthor("practitioner's phone"), newTestAuthor("partner")
	cert, err := record.IssueCert(p.key, dev.author, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	signAsDevice := func(b record.Body) *record.Record {
		t.Helper()
		rec, err := record.SignAsDevice(dev.key, cert, b)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	pk, err := mentorship.NewPairKey(p.key, partner.author, DefaultCommunity, privPairing)
	if err != nil {
		t.Fatal(err)
	}
	itemID, _ := mentorship.NewItemID(nil)
	key, sealed, err := pk.Seal(nil, itemID, mentorship.Item{Type: mentorship.ItemNote, Text: "replayed"})
	if err != nil {
		t.Fatal(err)
	}
	private := signAsDevice(record.Body{Community: DefaultCommunity, Author: p.author, Kind: mentorship.KindPrivate, Key: key,
		Version: 2, Timestamp: record.Now(), Payload: sealed})
	revocation, err := mentorship.Device{Name: "phone", State: mentorship.DeviceRevoked,
		LinkedAt: uint64(time.Now().Add(-time.Hour).UnixMilli()), RevokedAt: uint64(time.Now().UnixMilli())}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	revoke, err := record.Sign(p.key, record.Body{Community: DefaultCommunity, Author: p.author, Kind: mentorship.KindDevice,
		Key: mentorship.DeviceKey(dev.author), Version: 1, Timestamp: record.Now(), Payload: revocation})
	if err != nil {
		t.Fatal(err)
	}
	profile := p.profile(t, DefaultCommunity, 1, "x", nil)
	byRevoked := signAsDevice(profile.Body)

	if sum := importDoc(t, d.Local, exportDoc(t, entries(private, revoke)...)); sum.Rejected != 1 || sum.Imported != 1 ||
		len(sum.Problems) != 1 || !strings.Contains(sum.Problems[0].Reason, "only the author's own key may sign") {
		t.Errorf("importing a device-signed private item and a revocation = %+v, want the item rejected (root-only kind)", sum)
	}
	if sum := importDoc(t, d.Local, exportDoc(t, entries(byRevoked)...)); sum.Skipped != 1 || sum.Imported != 0 ||
		len(sum.Problems) != 1 || !strings.Contains(sum.Problems[0].Reason, "revoked") {
		t.Errorf("importing a revoked device's profile = %+v, want it skipped", sum)
	}
	if privCount(t, d.Local) != 0 {
		t.Error("the device-signed private item was stored")
	}
}
