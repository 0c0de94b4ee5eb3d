package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// A backup file is the whole store as Badger's backup stream, framed so a
// damaged or truncated file is detected before anything is restored:
//
//	"mentormesh backup 1\n"
//	<BackupMeta as one line of JSON> "\n"
//	<Badger backup stream: frames of an 8-byte little-endian length and a
//	 protobuf KVList>
//	trailer, 48 bytes: "MMBKEND1" <stream length: 8 bytes big-endian>
//	                   <SHA-256 of everything before the trailer>
//
// The stream holds every key of the store (records, indexes, outbox,
// remembered peers, schema version) at one read timestamp.
const (
	backupMagic   = "mentormesh backup 1\n"
	trailerMagic  = "MMBKEND1"
	trailerLen    = len(trailerMagic) + 8 + sha256.Size
	maxMetaLine   = 64 << 10
	loadPending   = 16
	backupLogName = "backup"
)

// MaxBackupFrame caps one frame of a backup stream when restoring. Badger
// writes frames of at most about 100 MiB (its flush threshold); a larger
// length is damage or a hostile file, refused before it is allocated.
const MaxBackupFrame = 256 << 20

// ErrBadBackup is returned for a file that is not a complete, undamaged
// mentormesh backup.
var ErrBadBackup = errors.New("not a valid mentormesh backup")

// BackupMeta is stored in a backup's header.
type BackupMeta struct {
	// PeerID is the identity of the node whose store was backed up.
	PeerID    string    `json:"peer_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Schema is the store's schema version (keys.go).
	Schema uint64 `json:"schema"`
}

// Backup writes the whole store to w as a backup file (see above). It is
// safe while the store is in use: the stream is read in one read
// transaction, so it is consistent at one moment. It returns the number of
// bytes written. meta.Schema is filled in.
func (b *Badger) Backup(ctx context.Context, w io.Writer, meta BackupMeta) (int64, error) {
	if err := b.enter(); err != nil {
		return 0, fmt.Errorf("backing up store: %w", err)
	}
	defer b.leave()
	meta.Schema = schemaVersion
	line, err := json.Marshal(meta)
	if err != nil {
		return 0, fmt.Errorf("backing up store: %w", err)
	}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(w, h), ctx: ctx}
	if _, err := io.WriteString(cw, backupMagic); err != nil {
		return cw.n, fmt.Errorf("backing up store: %w", err)
	}
	if _, err := cw.Write(append(line, '\n')); err != nil {
		return cw.n, fmt.Errorf("backing up store: %w", err)
	}
	headerLen := cw.n
	stream := b.db.NewStream()
	stream.LogPrefix = "DB.Backup"
	// One producer, hence one read transaction: with several, each range
	// would be read at its own timestamp, and a record written meanwhile
	// could appear without its index entries.
	stream.NumGo = 1
	if _, err := stream.Backup(cw, 0); err != nil {
		return cw.n, fmt.Errorf("backing up store: %w", err)
	}
	trailer := make([]byte, 0, trailerLen)
	trailer = append(trailer, trailerMagic...)
	trailer = binary.BigEndian.AppendUint64(trailer, uint64(cw.n-headerLen))
	trailer = h.Sum(trailer)
	if _, err := w.Write(trailer); err != nil {
		return cw.n, fmt.Errorf("backing up store: %w", err)
	}
	return cw.n + int64(len(trailer)), nil
}

// countingWriter counts bytes and stops writing once ctx is done, which
// aborts a Badger stream (it has no context of its own).
type countingWriter struct {
	w   io.Writer
	ctx context.Context
	n   int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// backupFile is a verified backup file: its header and where its stream is.
type backupFile struct {
	meta      BackupMeta
	streamOff int64
	streamLen int64
}

// VerifyBackup checks that the file at path is a complete, undamaged backup
// (its end marker and checksum) that this mentormesh can restore, and
// returns its header. It reads the whole file.
func VerifyBackup(path string) (BackupMeta, error) {
	f, err := os.Open(path)
	if err != nil {
		return BackupMeta{}, fmt.Errorf("reading backup: %w", err)
	}
	defer f.Close()
	bf, err := verifyBackup(f)
	if err != nil {
		return BackupMeta{}, fmt.Errorf("%s: %w", path, err)
	}
	return bf.meta, nil
}

func verifyBackup(f *os.File) (backupFile, error) {
	fi, err := f.Stat()
	if err != nil {
		return backupFile{}, err
	}
	size := fi.Size()
	if size < int64(len(backupMagic)+trailerLen) {
		return backupFile{}, fmt.Errorf("%w: the file is %d bytes, too short (truncated?)", ErrBadBackup, size)
	}
	magic := make([]byte, len(backupMagic))
	if _, err := f.ReadAt(magic, 0); err != nil {
		return backupFile{}, err
	}
	if string(magic) != backupMagic {
		return backupFile{}, fmt.Errorf("%w: the file does not start like one (made by 'mentormesh backup'?)", ErrBadBackup)
	}
	trailer := make([]byte, trailerLen)
	if _, err := f.ReadAt(trailer, size-int64(trailerLen)); err != nil {
		return backupFile{}, err
	}
	if string(trailer[:len(trailerMagic)]) != trailerMagic {
		return backupFile{}, fmt.Errorf("%w: the end marker is missing: the file is truncated or damaged", ErrBadBackup)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, size-int64(trailerLen))); err != nil {
		return backupFile{}, err
	}
	if !bytes.Equal(h.Sum(nil), trailer[len(trailerMagic)+8:]) {
		return backupFile{}, fmt.Errorf("%w: checksum mismatch: the file is damaged", ErrBadBackup)
	}
	br := bufio.NewReader(io.NewSectionReader(f, int64(len(backupMagic)), maxMetaLine))
	line, err := br.ReadSlice('\n')
	if err != nil {
		return backupFile{}, fmt.Errorf("%w: header: %w", ErrBadBackup, err)
	}
	var meta BackupMeta
	if err := json.Unmarshal(line, &meta); err != nil {
		return backupFile{}, fmt.Errorf("%w: header: %w", ErrBadBackup, err)
	}
	if meta.Schema > schemaVersion {
		return backupFile{}, fmt.Errorf("%w: the backup has schema version %d, this mentormesh understands up to %d; upgrade mentormesh", ErrNewerSchema, meta.Schema, schemaVersion)
	}
	off := int64(len(backupMagic) + len(line))
	streamLen := size - int64(trailerLen) - off
	if want := binary.BigEndian.Uint64(trailer[len(trailerMagic):]); streamLen < 0 || uint64(streamLen) != want {
		return backupFile{}, fmt.Errorf("%w: the stream is %d bytes, the end marker says %d", ErrBadBackup, streamLen, want)
	}
	return backupFile{meta: meta, streamOff: off, streamLen: streamLen}, nil
}

// RestoreBackup verifies the backup file at path, loads it into a new store
// in dir (which must not exist, or be empty), and checks the result with
// Check, signatures included: a backup is trusted no more than a peer. On
// any error dir is removed again. It returns the backup's header and what
// the restored store holds.
func RestoreBackup(ctx context.Context, path, dir string, log *slog.Logger) (BackupMeta, CheckReport, error) {
	if log == nil {
		log = slog.Default()
	}
	f, err := os.Open(path)
	if err != nil {
		return BackupMeta{}, CheckReport{}, fmt.Errorf("reading backup: %w", err)
	}
	defer f.Close()
	bf, err := verifyBackup(f)
	if err != nil {
		return BackupMeta{}, CheckReport{}, fmt.Errorf("%s: %w", path, err)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return BackupMeta{}, CheckReport{}, fmt.Errorf("restoring into %s: the directory is not empty", dir)
	}
	rep, err := loadInto(ctx, dir, io.NewSectionReader(f, bf.streamOff, bf.streamLen), log)
	if err != nil {
		if rerr := os.RemoveAll(dir); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return BackupMeta{}, CheckReport{}, fmt.Errorf("restoring %s: %w", path, err)
	}
	return bf.meta, rep, nil
}

// loadInto creates a store in dir from a backup stream and checks it.
func loadInto(ctx context.Context, dir string, stream io.Reader, log *slog.Logger) (CheckReport, error) {
	db, err := badger.Open(badgerOptions(dir, BadgerOptions{}, log.With("op", backupLogName)))
	if err != nil {
		return CheckReport{}, fmt.Errorf("creating store: %w", err)
	}
	lerr := db.Load(&frameReader{r: bufio.NewReaderSize(stream, 64<<10), ctx: ctx}, loadPending)
	if cerr := db.Close(); lerr == nil && cerr != nil {
		lerr = fmt.Errorf("closing restored store: %w", cerr)
	}
	if lerr != nil {
		if errors.Is(lerr, ErrBadBackup) || errors.Is(lerr, context.Canceled) || errors.Is(lerr, context.DeadlineExceeded) {
			return CheckReport{}, lerr
		}
		return CheckReport{}, fmt.Errorf("%w: loading the stream: %w", ErrBadBackup, lerr)
	}
	s, err := OpenBadger(dir, BadgerOptions{Logger: log})
	if err != nil {
		return CheckReport{}, err
	}
	rep, err := s.Check(ctx, CheckOptions{VerifySignatures: true})
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return CheckReport{}, fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	return rep, nil
}

// frameReader passes a Badger backup stream through, frame by frame,
// refusing a frame length above MaxBackupFrame before Badger allocates a
// buffer of that size.
type frameReader struct {
	r   io.Reader
	ctx context.Context
	// hdr is a frame header read but not yet passed on; left is what
	// remains of the current frame's body.
	hdr  []byte
	left uint64
}

func (fr *frameReader) Read(p []byte) (int, error) {
	if err := fr.ctx.Err(); err != nil {
		return 0, err
	}
	if len(fr.hdr) == 0 && fr.left == 0 {
		var hdr [8]byte
		n, err := io.ReadFull(fr.r, hdr[:])
		switch {
		case err == io.EOF:
			return 0, io.EOF
		case err != nil:
			return 0, fmt.Errorf("%w: truncated frame header (%d bytes)", ErrBadBackup, n)
		}
		size := binary.LittleEndian.Uint64(hdr[:])
		if size > MaxBackupFrame {
			return 0, fmt.Errorf("%w: a frame claims %d bytes, limit %d", ErrBadBackup, size, MaxBackupFrame)
		}
		fr.hdr, fr.left = hdr[:], size
	}
	if len(fr.hdr) > 0 {
		n := copy(p, fr.hdr)
		fr.hdr = fr.hdr[n:]
		return n, nil
	}
	if uint64(len(p)) > fr.left {
		p = p[:fr.left]
	}
	n, err := fr.r.Read(p)
	fr.left -= uint64(n)
	if err == io.EOF && fr.left > 0 {
		return n, fmt.Errorf("%w: truncated frame", ErrBadBackup)
	}
	if err == io.EOF {
		err = nil // the next call reads the next header or ends
	}
	return n, err
}
