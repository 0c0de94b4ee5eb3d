package node

import (
	"context"
	"log/slog"
)

// minLevel wraps a handler so records below min are dropped, whatever the
// wrapped handler's own level. Libraries that log routine events at Info
// (go-libp2p-pubsub, for one) get it, so a node's log shows what matters.
type minLevel struct {
	slog.Handler
	min slog.Level
}

// libraryLogger returns the logger for a library subsystem: warnings and
// errors only, unless the node logs at debug level.
func libraryLogger(log *slog.Logger, subsystem string) *slog.Logger {
	log = log.With("subsystem", subsystem)
	if log.Enabled(context.Background(), slog.LevelDebug) {
		return log
	}
	return slog.New(minLevel{Handler: log.Handler(), min: slog.LevelWarn})
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
