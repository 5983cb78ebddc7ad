package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp" // the http app that serves the API

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/index/corpus"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/deploy/loopport"
	_ "github.com/stratavideo/strata/origin/api" // the strata_api handler
)

// strataNode is a single-node Strata running in this process the way the
// strata binary runs it: Caddy with the strata app (Raft, the bbolt store,
// the Bleve index) and an HTTP server whose only route is the strata_api
// handler of origin/api. Queries go through Caddy's HTTP server and the
// real handler (parsing, search, facets, highlights, records, JSON), as a
// browser's would; there is no origin role, so no uploads or workers.
type strataNode struct {
	dir  string
	base string
	node *cluster.Node
}

// startStrata loads that configuration into Caddy. The admin endpoint is
// off and the configuration is not saved, so nothing outside dir changes.
func startStrata(dir string) (*strataNode, error) {
	port, err := loopport.Free()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := map[string]any{
		"admin":   map[string]any{"disabled": true, "config": map[string]any{"persist": false}},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{"level": "ERROR"}}},
		"apps": map[string]any{
			"strata": map[string]any{"data_dir": dir},
			"http": map[string]any{"servers": map[string]any{"bench": map[string]any{
				"listen":          []string{addr},
				"automatic_https": map[string]any{"disable": true},
				"routes":          []any{map[string]any{"handle": []any{map[string]any{"handler": "strata_api"}}}},
			}}},
		},
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := caddy.Load(raw, true); err != nil {
		return nil, fmt.Errorf("start the strata node: %w", err)
	}
	app, err := cluster.FromContext(caddy.ActiveContext())
	if err != nil {
		_ = caddy.Stop()
		return nil, fmt.Errorf("find the strata app: %w", err)
	}
	return &strataNode{dir: dir, base: "http://" + addr, node: app.Node()}, nil
}

// stop stops Caddy, which closes the node.
func (s *strataNode) stop() error { return caddy.Stop() }

// build applies the videos through Raft and returns the time from the
// first apply until the node's search index holds the last one. Each video
// is what an upload and a finished transcode write: CreateVideo at its
// upload time, then VideoReady (all but the 2% still processing); views
// come after, 1000 videos per AddViews entry, as a view counter proposes
// them. Writers apply concurrently, so Raft appends and the state machine
// applies them in batches (one fsync and one bbolt transaction for each
// batch), as it does for a busy cluster's uploads.
func (s *strataNode) build(ctx context.Context, videos []corpus.Video, writers int) (time.Duration, error) {
	start := time.Now()
	var next atomic.Int64
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(videos) {
					return
				}
				for _, c := range commandsFor(videos[i].Video) {
					if _, err := s.node.Apply(ctx, c); err != nil {
						errs <- fmt.Errorf("apply %T for %s: %w", c, videos[i].ID, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(<-errs, ctx.Err()); err != nil {
		return 0, err
	}
	at := corpus.Reference.Add(-30 * 24 * time.Hour)
	for from := 0; from < len(videos); from += 1000 {
		c := &command.AddViews{Stamp: command.Stamp{At: at}}
		for _, v := range videos[from:min(from+1000, len(videos))] {
			if v.Views > 0 {
				c.Views = append(c.Views, command.VideoViews{ID: v.ID, N: v.Views})
			}
		}
		if _, err := s.node.Apply(ctx, c); err != nil {
			return 0, fmt.Errorf("apply views: %w", err)
		}
	}
	if err := s.node.WaitIndexed(ctx); err != nil {
		return 0, fmt.Errorf("wait for the index: %w", err)
	}
	return time.Since(start), nil
}

// commandsFor are the commands that make v as the generator made it, like
// origin/api's tests do: created at its upload time, then ready.
func commandsFor(v *model.Video) []command.Command {
	created := *v
	created.Status, created.Renditions, created.Views, created.RecentViews = "", nil, 0, nil
	out := []command.Command{&command.CreateVideo{Stamp: command.Stamp{At: v.CreatedAt}, Video: created}}
	if v.Status == model.StatusReady {
		out = append(out, &command.VideoReady{Stamp: command.Stamp{At: v.ReadyAt}, ID: v.ID, DurationS: v.DurationS,
			Width: v.Width, Height: v.Height, HasAudio: v.HasAudio, Renditions: v.Renditions, Master: "master.m3u8"})
	}
	return out
}

// sizes are the search index's size on disk and the whole data folder's
// (Raft log and snapshots, the store, the index).
func (s *strataNode) sizes() (index, all int64, err error) {
	if index, err = dirSize(filepath.Join(s.dir, "index")); err != nil {
		return 0, 0, err
	}
	all, err = dirSize(s.dir)
	return index, all, err
}

// httpSearcher asks GET /api/v1/search, as the web UI does, for the first
// page of 20.
type httpSearcher struct {
	base string
	hc   *http.Client
}

func newHTTPSearcher(base string, clients int) *httpSearcher {
	return &httpSearcher{base: base, hc: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxIdleConns: clients},
	}}
}

func (h *httpSearcher) search(ctx context.Context, text string) (any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/api/v1/search?limit=20&q="+url.QueryEscape(text), nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %.200s", resp.Status, body)
	}
	return body, nil
}

func (h *httpSearcher) titles(answer any) ([]string, error) {
	var a struct {
		Hits []struct {
			Title string `json:"title"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(answer.([]byte), &a); err != nil {
		return nil, err
	}
	out := make([]string, len(a.Hits))
	for i, h := range a.Hits {
		out[i] = h.Title
	}
	return out, nil
}

func (h *httpSearcher) close() { h.hc.CloseIdleConnections() }
