package cluster

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger gives hashicorp/raft an hclog.Logger that writes through our
// slog logger, so Raft's lines land in Caddy's structured log.
func newHCLogger(name string, l *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:   name,
		Level:  hclog.Info,
		Output: &slogWriter{l: l.With("part", name)},
		// One line per record keeps slogWriter simple.
		DisableTime: true,
	})
}

// slogWriter turns hclog's text lines into slog records at their level.
type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		level := slog.LevelInfo
		switch {
		case strings.HasPrefix(line, "[ERROR]"):
			level = slog.LevelError
		case strings.HasPrefix(line, "[WARN]"):
			level = slog.LevelWarn
		case strings.HasPrefix(line, "[DEBUG]"), strings.HasPrefix(line, "[TRACE]"):
			level = slog.LevelDebug
		}
		if i := strings.Index(line, "] "); i >= 0 && strings.HasPrefix(line, "[") {
			line = strings.TrimSpace(line[i+2:])
		}
		w.l.Log(context.Background(), level, line)
	}
	return len(p), nil
}

var _ io.Writer = (*slogWriter)(nil)
