package edge

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// startRole runs the edge role on a real single-node cluster.
func startRole(t *testing.T, dataDir string) (*Role, *cluster.Node) {
	t.Helper()
	cfg := cluster.DefaultNodeConfig(dataDir)
	cfg.NoSync = true
	n, err := cluster.OpenNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := caddy.NewContext(caddy.ActiveContext())
	t.Cleanup(ccancel)
	role := &Role{MemoryBytes: 16 << 20, DiskBytes: 64 << 20}
	if err := role.Provision(cctx); err != nil {
		t.Fatal(err)
	}
	if err := role.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := role.Start(n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { role.Stop() })
	return role, n
}

func apply(t *testing.T, n *cluster.Node, c command.Command) {
	t.Helper()
	if _, err := n.Apply(context.Background(), c); err != nil {
		t.Fatalf("apply %T: %v", c, err)
	}
}

// TestPurgeOnClusterEvents: on a real cluster node, a video made private
// and a deleted video are gone from the edge (memory, disk and the access
// decision) within a second of the apply.
func TestPurgeOnClusterEvents(t *testing.T) {
	role, n := startRole(t, t.TempDir())
	o := newTestOrigin(t)
	e := newEdge(t, "", withOrigins(o.addr()), withRole(role))
	now := time.Now().UTC()
	for _, id := range []string{"keep", "gone", "hide"} {
		o.put("/media/"+id+"/chunk-a-0-00001.m4s", segment(10_000))
		apply(t, n, &command.CreateVideo{Stamp: command.Stamp{At: now}, Video: model.Video{ID: id, Title: id, Visibility: model.Public}})
		apply(t, n, &command.VideoReady{Stamp: command.Stamp{At: now}, ID: id, Master: "master.m3u8"})
		path := "/media/" + id + "/chunk-a-0-00001.m4s"
		if resp, _ := e.get(path); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		waitFor(t, path+" on disk", 5*time.Second, func() bool { return e.cache.DiskPath(path) != "" })
		if resp, _ := e.get(path); resp.Header.Get("X-Cache") != "HIT-MEM" {
			t.Fatalf("%s: %s", path, resp.Header.Get("X-Cache"))
		}
	}
	private := model.Private
	apply(t, n, &command.DeleteVideo{Stamp: command.Stamp{At: now}, ID: "gone"})
	applied := time.Now()
	apply(t, n, &command.UpdateVideo{Stamp: command.Stamp{At: now}, ID: "hide", Visibility: &private})
	for _, id := range []string{"gone", "hide"} {
		path := "/media/" + id + "/chunk-a-0-00001.m4s"
		waitFor(t, id+" purged", time.Second, func() bool { return !e.cache.Has(path) })
		if resp, _ := e.get(path); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s after the purge: %d", path, resp.StatusCode)
		}
	}
	if took := time.Since(applied); took > time.Second {
		t.Fatalf("purges took %s", took)
	}
	if resp, _ := e.get("/media/keep/chunk-a-0-00001.m4s"); resp.Header.Get("X-Cache") != "HIT-MEM" {
		t.Fatalf("another video was purged: %s", resp.Header.Get("X-Cache"))
	}
	e.cache.WaitRemovals()
	if e.cache.Stats().DiskObjects.Load() != 1 {
		t.Fatalf("disk holds %d objects, want 1", e.cache.Stats().DiskObjects.Load())
	}
}

// TestAdminPurge: the admin API purges one object or a whole video.
func TestAdminPurge(t *testing.T) {
	o := newTestOrigin(t)
	o.put(segPath, segment(1000))
	o.put(manifestPath, []byte("#EXTM3U\n"))
	e := newEdge(t, "", withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)
	e.get(segPath)
	e.get(manifestPath)
	api := adminAPI{cache: func() (purger, error) { return e.cache, nil }}
	route := api.Routes()[0]

	call := func(method, path string) int {
		w := httptest.NewRecorder()
		err := route.Handler.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		if apiErr, ok := err.(caddy.APIError); ok {
			return apiErr.HTTPStatus
		}
		if err != nil {
			t.Fatal(err)
		}
		return w.Code
	}
	if code := call(http.MethodGet, "/strata/edge/purge/vid1"); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", code)
	}
	if code := call(http.MethodPost, "/strata/edge/purge/vid1/../x"); code != http.StatusBadRequest {
		t.Fatalf("bad file: %d", code)
	}
	if code := call(http.MethodPost, "/strata/edge/purge/vid1/master.m3u8"); code != 200 {
		t.Fatalf("purge one: %d", code)
	}
	if e.cache.Has(manifestPath) || !e.cache.Has(segPath) {
		t.Fatal("purging one object purged the wrong ones")
	}
	w := httptest.NewRecorder()
	if err := route.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/strata/edge/purge/vid1", nil)); err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out["purged"] != "/media/vid1" {
		t.Fatalf("answer %q (%v)", w.Body.String(), err)
	}
	if e.cache.Has(segPath) {
		t.Fatal("the video's segment is still cached")
	}
	if resp, _ := e.get(segPath); resp.Header.Get("X-Cache") != "MISS" || o.count(segPath) != 2 {
		t.Fatalf("after the purge: %s, origin asked %d times", resp.Header.Get("X-Cache"), o.count(segPath))
	}
}

// TestPurgeOnCaptionChange: setting or deleting a caption purges the
// video's manifests (which list the captions) and the caption's files,
// and leaves its segments cached.
func TestPurgeOnCaptionChange(t *testing.T) {
	role, n := startRole(t, t.TempDir())
	o := newTestOrigin(t)
	e := newEdge(t, "", withOrigins(o.addr()), withRole(role))
	now := command.Stamp{At: time.Now().UTC()}
	const id = "capt"
	seg, master, mpd, vtt := "/media/"+id+"/chunk-a-0-00001.m4s", "/media/"+id+"/master.m3u8", "/media/"+id+"/manifest.mpd", "/media/"+id+"/captions/en.vtt"
	o.put(seg, segment(10_000))
	o.put(master, []byte("#EXTM3U\n"))
	o.put(mpd, []byte("<MPD/>"))
	o.put(vtt, []byte("WEBVTT\n"))
	apply(t, n, &command.CreateVideo{Stamp: now, Video: model.Video{ID: id, Title: id, Visibility: model.Public}})
	apply(t, n, &command.VideoReady{Stamp: now, ID: id, Master: "master.m3u8", DASH: "manifest.mpd"})
	for _, step := range []command.Command{
		&command.SetCaption{Stamp: now, VideoID: id, Lang: "en", Label: "English", VTT: []byte("WEBVTT\n")},
		&command.DeleteCaption{Stamp: now, VideoID: id, Lang: "en"},
	} {
		for _, p := range []string{seg, master, mpd, vtt} {
			if resp, _ := e.get(p); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", p, resp.StatusCode)
			}
			// The VideoReady purge runs off the apply path and may land
			// after this fill: ask again until the copy stays.
			waitFor(t, p+" cached", 5*time.Second, func() bool {
				if !e.cache.Has(p) {
					e.get(p)
				}
				return e.cache.Has(p)
			})
		}
		apply(t, n, step)
		for _, p := range []string{master, mpd, vtt} {
			waitFor(t, p+" purged", time.Second, func() bool { return !e.cache.Has(p) })
		}
		if !e.cache.Has(seg) {
			t.Fatalf("%T purged the segments", step)
		}
	}
}
