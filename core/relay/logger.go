package relay

import (
	"io"
	"log/slog"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/lograte"
)

// NewLogger builds the structured logger the config asks for (log.level,
// log.format), with repeated warnings and errors counted rather than
// written (log.repeat_window). The caller calls flush once it no longer
// logs: it writes the counts still pending.
func NewLogger(cfg config.Config, w io.Writer) (log *slog.Logger, flush func()) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.Log.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	if cfg.Log.RepeatWindow <= 0 {
		return slog.New(h), func() {}
	}
	lr := lograte.New(h, lograte.Options{Window: cfg.Log.RepeatWindow})
	return slog.New(lr), lr.Close
}
