package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// badgerLogger routes Badger's printf-style log lines to slog. Badger is
// chatty at Info (tables opened, compactions), so Info and Debug both go to
// slog's Debug; warnings and errors keep their level.
type badgerLogger struct{ l *slog.Logger }

var _ badger.Logger = badgerLogger{}

func (b badgerLogger) Errorf(format string, args ...any) { b.log(slog.LevelError, format, args) }

func (b badgerLogger) Warningf(format string, args ...any) { b.log(slog.LevelWarn, format, args) }

func (b badgerLogger) Infof(format string, args ...any) { b.log(slog.LevelDebug, format, args) }

func (b badgerLogger) Debugf(format string, args ...any) { b.log(slog.LevelDebug, format, args) }

func (b badgerLogger) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !b.l.Enabled(ctx, level) {
		return // skip formatting what nobody reads
	}
	b.l.Log(ctx, level, "badger", "detail", strings.TrimSpace(fmt.Sprintf(format, args...)))
}
