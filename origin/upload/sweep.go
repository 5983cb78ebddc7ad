package upload

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	tusd "github.com/tus/tusd/v2/pkg/handler"
)

func (h *Handler) sweepLoop() {
	defer h.done.Done()
	t := time.NewTicker(h.cfg.SweepEvery)
	defer t.Stop()
	for {
		h.Sweep()
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
	}
}

// Sweep removes staged uploads past their expiry: unfinished ones Expiry
// after their last write, finished ones FinishedExpiry after it. It returns
// how many it removed.
func (h *Handler) Sweep() int {
	entries, err := os.ReadDir(h.cfg.Dir)
	if err != nil {
		h.log.Warn("sweep uploads", "error", err)
		return 0
	}
	now := h.cfg.Now()
	removed := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".info") {
			continue
		}
		id := strings.TrimSuffix(name, ".info")
		infoPath := filepath.Join(h.cfg.Dir, name)
		raw, err := os.ReadFile(infoPath)
		if err != nil {
			continue
		}
		var info tusd.FileInfo
		if err := json.Unmarshal(raw, &info); err != nil {
			continue
		}
		binPath := filepath.Join(h.cfg.Dir, id)
		st, err := os.Stat(binPath)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			continue
		}
		last := time.Time{}
		size := int64(0)
		if st != nil {
			last, size = st.ModTime(), st.Size()
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
		ttl := h.cfg.Expiry
		if !info.SizeIsDeferred && size == info.Size {
			ttl = h.cfg.FinishedExpiry
		}
		if now.Sub(last) < ttl {
			continue
		}
		up, err := h.store.GetUpload(context.Background(), id)
		if err != nil {
			continue
		}
		if err := h.store.AsTerminatableUpload(up).Terminate(context.Background()); err != nil {
			h.log.Warn("remove expired upload", "id", id, "error", err)
			continue
		}
		removed++
	}
	return removed
}
