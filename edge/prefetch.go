package edge

import (
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stratavideo/strata/edge/cache"
)

// segmentExts are the media segment extensions whose names carry a number.
var segmentExts = map[string]bool{".m4s": true, ".ts": true, ".m4v": true, ".m4a": true, ".cmfv": true, ".cmfa": true}

// successors names the k segments after the one at key, or none when key
// is not a numbered segment. Names keep the number's zero padding:
// chunk-ab12-0-00007.m4s is followed by chunk-ab12-0-00008.m4s. Init
// segments carry a rendition number, not a sequence, and have none.
func successors(key string, k int) []string {
	dir, file := path.Split(key)
	ext := path.Ext(file)
	if !segmentExts[ext] || strings.HasPrefix(file, "init") {
		return nil
	}
	stem := file[:len(file)-len(ext)]
	i := len(stem)
	for i > 0 && stem[i-1] >= '0' && stem[i-1] <= '9' {
		i--
	}
	digits := stem[i:]
	if digits == "" || i == 0 || len(digits) > 12 {
		return nil
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return nil
	}
	out := make([]string, 0, k)
	for j := int64(1); j <= int64(k); j++ {
		num := strconv.FormatInt(n+j, 10)
		if pad := len(digits) - len(num); pad > 0 {
			num = strings.Repeat("0", pad) + num
		}
		out = append(out, dir+stem[:i]+num+ext)
	}
	return out
}

// prefetchAfter starts background fills for the segments after key that
// no tier holds and no fill is fetching. At most prefetchParallel run at
// once; beyond that a prefetch is skipped, not queued, since a viewer
// asking is worth more than a guess.
func (h *Handler) prefetchAfter(c *cache.Cache, r *http.Request, next caddyhttp.Handler, key, video string) {
	var base *fillBase
	for _, k := range successors(key, h.prefetch) {
		if h.fills.Has(k) || c.Has(k) {
			continue
		}
		select {
		case h.prefetchSem <- struct{}{}:
		default:
			return
		}
		f, leader := h.fills.Join(k, func() *fill { return newFill(k, video, c.Gen(video)) })
		if !leader {
			<-h.prefetchSem
			continue
		}
		if base == nil {
			b := baseOf(r)
			base = &b
		}
		h.startFill(f, c, *base, next, nil, func() { <-h.prefetchSem })
	}
}
