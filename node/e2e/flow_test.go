package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafov/m3u8"
)

// TestUploadTranscodeWatchSearchRestart is the core job end to end: a 10 s
// 720p video uploaded with tus in 3 chunks with a broken connection and a
// resume in the middle, transcoded, watched over HLS and DASH, found by
// search, and all of it still there after a restart.
func TestUploadTranscodeWatchSearchRestart(t *testing.T) {
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")
	n := startNode(t, dataDir)

	src := makeVideo(t, work, "harbour.mp4", 10, "1280x720")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	up := tusCreate(t, n.base, data, map[string]string{
		"filename": "harbour.mp4", "title": "Lighthouse at the harbour",
		"description": "Waves and a test pattern", "tags": "sea, test,Sea",
	})
	third := len(data) / 3

	// Chunk 1 arrives whole.
	up.patchOK(0, third)
	// Chunk 2 breaks half-way: the server keeps what arrived and says so.
	up.patchBroken(third, 2*third, third/2)
	// The resume asks where the server stands and sends the rest of chunk
	// 2, then chunk 3.
	off := up.resume(2 * third)
	if off < third || off > third+third/2 {
		t.Fatalf("offset after the broken chunk = %d, want between %d and %d", off, third, third+third/2)
	}
	up.patchOK(2*third, len(data))

	id := up.id()
	var v video
	if status := n.getJSON("/api/v1/videos/"+id, &v); status != http.StatusOK {
		t.Fatalf("video %s right after the upload: HTTP %d", id, status)
	}
	if v.Title != "Lighthouse at the harbour" || strings.Join(v.Tags, ",") != "sea,test" {
		t.Fatalf("video metadata = %q %v", v.Title, v.Tags)
	}
	v, seen := n.watchVideo(id, 4*time.Minute)
	if v.Status != "ready" {
		t.Fatalf("video failed: %s", v.Error)
	}
	// While it ran, the API showed it processing with progress between 0
	// and 100, never going backwards.
	last, midway := 0.0, false
	for _, s := range seen {
		if s.Status == "processing" && s.Progress > 0 && s.Progress < 100 {
			midway = true
		}
		if s.Progress < last {
			t.Errorf("progress went back from %.1f to %.1f", last, s.Progress)
		}
		last = s.Progress
	}
	if !midway {
		t.Errorf("never saw the video processing with progress between 0 and 100 in %d polls", len(seen))
	}
	// Fast first play publishes a growing run only when it is worth it (a
	// 10 s clip is done about as soon); any playable state seen before
	// ready must offer the whole ladder, nothing pending and no MPD yet.
	// TestBrowserFirstPlayPreview holds that state open and plays it.
	for _, s := range seen {
		if s.Status != "processing" || !s.Playable {
			continue
		}
		checkGrowing(t, s, []int{720, 480, 360, 240})
	}
	if v.Progress != 100 || v.Playable != true || len(v.RenditionsPending) != 0 {
		t.Errorf("ready video: progress %v playable %v pending %v", v.Progress, v.Playable, v.RenditionsPending)
	}
	checkLadder(t, v, []int{720, 480, 360, 240})
	checkMedia(t, n, v, 10)
	checkImages(t, n, v, 1280, 720)

	checkSearch(t, n, "lighthouse", id)
	checkMetrics(t, n, map[string]float64{
		"strata_uploads_finished_total":                              1,
		`strata_jobs_finished_total{kind="transcode",result="done"}`: 1,
		"strata_raft_leader":                                         1,
	})

	// A config reload (the same config through the admin endpoint) keeps
	// the node serving: the new config takes the open node over.
	reload(t, n)
	checkSearch(t, n, "lighthouse", id)

	// Restart: everything is still there.
	n.stop()
	n = startNode(t, dataDir)
	var again video
	if status := n.getJSON("/api/v1/videos/"+id, &again); status != http.StatusOK || again.Status != "ready" {
		t.Fatalf("after restart: HTTP %d, status %q", status, again.Status)
	}
	checkSearch(t, n, "harbour", id)
	checkMedia(t, n, again, 10)
	var list struct {
		Videos []video `json:"videos"`
	}
	n.getJSON("/api/v1/videos", &list)
	if len(list.Videos) != 1 || list.Videos[0].ID != id {
		t.Fatalf("list after restart = %+v", list.Videos)
	}
}

// checkImages fetches the thumbnails (never larger than the source) and
// the storyboard with every sprite its cues point at.
func checkImages(t *testing.T, n *node, v video, srcW, srcH int) {
	t.Helper()
	if len(v.Thumbnails) == 0 || v.Storyboard == "" {
		t.Fatalf("ready video without thumbnails or storyboard: %+v", v)
	}
	for _, th := range v.Thumbnails {
		if th.Width > srcW || th.Height > srcH || th.Width*srcH != th.Height*srcW && abs(th.Width*srcH-th.Height*srcW) > 2*srcH {
			t.Errorf("thumbnail %dx%d for a %dx%d source", th.Width, th.Height, srcW, srcH)
		}
		if r, b := get(t, n.base+th.URL, nil); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/jpeg" || len(b) == 0 {
			t.Errorf("thumbnail %s: %d %s", th.URL, r.StatusCode, r.Header.Get("Content-Type"))
		}
	}
	r, vtt := get(t, n.base+v.Storyboard, nil)
	if r.StatusCode != 200 || !strings.HasPrefix(string(vtt), "WEBVTT") {
		t.Fatalf("storyboard %s: %d\n%s", v.Storyboard, r.StatusCode, vtt)
	}
	base, _ := url.Parse(n.base + v.Storyboard)
	sprites := map[string]bool{}
	for _, line := range strings.Split(string(vtt), "\n") {
		if name, _, ok := strings.Cut(line, "#xywh="); ok {
			sprites[name] = true
		}
	}
	if len(sprites) == 0 {
		t.Fatalf("storyboard has no sprite cues:\n%s", vtt)
	}
	for name := range sprites {
		u := base.ResolveReference(&url.URL{Path: name}).String()
		if r, _ := get(t, u, nil); r.StatusCode != 200 {
			t.Errorf("sprite %s: %d", u, r.StatusCode)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func checkLadder(t *testing.T, v video, want []int) {
	t.Helper()
	var got []int
	for _, r := range v.Renditions {
		got = append(got, r.Height)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("renditions = %v, want %v", got, want)
	}
	if v.HLS == "" || v.DASH == "" || v.Thumbnail == "" {
		t.Fatalf("ready video without hls/dash/thumbnail: %+v", v)
	}
}

// checkGrowing checks a video published while it encodes (growing first
// play): every rendition in its HLS master, nothing pending, no MPD yet
// (the poster may come only at the end).
func checkGrowing(t *testing.T, v video, want []int) {
	t.Helper()
	var got []int
	for _, r := range v.Renditions {
		got = append(got, r.Height)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("growing video renditions = %v, want %v", got, want)
	}
	if v.Status != "processing" || !v.Playable || v.HLS == "" || v.DASH != "" || len(v.RenditionsPending) != 0 {
		t.Fatalf("growing video: want processing, playable, HLS only, nothing pending: %+v", v)
	}
}

func get(t *testing.T, u string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp, body
}

// checkMedia fetches the master, every media playlist and every segment,
// checks headers users' players and caches rely on, and decodes HLS and
// DASH with ffmpeg.
func checkMedia(t *testing.T, n *node, v video, duration float64) {
	t.Helper()
	// Reads are local: a node other than the one that reported v ready
	// may apply that entry a heartbeat later, and until then the video
	// is still processing there (a clip too short to publish while it
	// encodes is not playable before it is ready). Check what n serves
	// once n itself says ready.
	if v.Status == "ready" {
		if nv := n.waitVideo(v.ID, 30*time.Second); nv.Status != "ready" {
			t.Fatalf("video %s on %s: %s, want ready as elsewhere", v.ID, n.base, nv.Status)
		}
	}
	masterURL := n.base + v.HLS
	resp, body := get(t, masterURL, nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "mpegurl") {
		t.Fatalf("master: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") {
		t.Errorf("master Cache-Control = %q, want revalidation", cc)
	}
	if etag := resp.Header.Get("ETag"); etag == "" {
		t.Errorf("master has no ETag to revalidate with")
	} else if r2, _ := get(t, masterURL, map[string]string{"If-None-Match": etag}); r2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating the master: %d, want 304", r2.StatusCode)
	}
	pl, listType, err := m3u8.DecodeFrom(strings.NewReader(string(body)), true)
	if err != nil || listType != m3u8.MASTER {
		t.Fatalf("master does not parse as a master playlist: %v\n%s", err, body)
	}
	master := pl.(*m3u8.MasterPlaylist)
	if len(master.Variants) != len(v.Renditions) {
		t.Fatalf("master has %d variants, API says %d renditions", len(master.Variants), len(v.Renditions))
	}
	base, _ := url.Parse(masterURL)
	seen := map[string]bool{}
	fetchSegment := func(ref string, rel *url.URL) {
		u := rel.ResolveReference(&url.URL{Path: ref}).String()
		if seen[u] {
			return
		}
		seen[u] = true
		r, seg := get(t, u, nil)
		if r.StatusCode != 200 || len(seg) == 0 {
			t.Fatalf("segment %s: %d, %d bytes", u, r.StatusCode, len(seg))
		}
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Fatalf("segment %s Cache-Control = %q, want immutable", u, cc)
		}
	}
	var mediaURLs []string
	for _, variant := range master.Variants {
		if variant.Resolution == "" || variant.Codecs == "" || variant.Bandwidth == 0 {
			t.Errorf("variant %s lacks RESOLUTION/CODECS/BANDWIDTH", variant.URI)
		}
		mediaURLs = append(mediaURLs, base.ResolveReference(&url.URL{Path: variant.URI}).String())
		for _, alt := range variant.Alternatives {
			if alt.URI != "" {
				mediaURLs = append(mediaURLs, base.ResolveReference(&url.URL{Path: alt.URI}).String())
			}
		}
	}
	for _, mu := range mediaURLs {
		if seen[mu] {
			continue
		}
		seen[mu] = true
		r, mb := get(t, mu, nil)
		if r.StatusCode != 200 {
			t.Fatalf("media playlist %s: %d", mu, r.StatusCode)
		}
		mpl, lt, err := m3u8.DecodeFrom(strings.NewReader(string(mb)), true)
		if err != nil || lt != m3u8.MEDIA {
			t.Fatalf("media playlist %s does not parse: %v", mu, err)
		}
		media := mpl.(*m3u8.MediaPlaylist)
		rel, _ := url.Parse(mu)
		if media.Map != nil {
			fetchSegment(media.Map.URI, rel)
		}
		total := 0.0
		for _, s := range media.Segments {
			if s == nil {
				continue
			}
			fetchSegment(s.URI, rel)
			total += s.Duration
		}
		if total < duration-0.5 || total > duration+0.5 {
			t.Errorf("media playlist %s sums to %.2f s, want %.1f", mu, total, duration)
		}
	}

	// A byte range of a segment comes back as 206 with the right bytes.
	for u := range seen {
		if !strings.HasSuffix(u, ".m4s") {
			continue
		}
		_, whole := get(t, u, nil)
		r, part := get(t, u, map[string]string{"Range": "bytes=10-99"})
		if r.StatusCode != http.StatusPartialContent || string(part) != string(whole[10:100]) {
			t.Fatalf("range of %s: %d, %d bytes", u, r.StatusCode, len(part))
		}
		if cr := r.Header.Get("Content-Range"); cr != "bytes 10-99/"+strconv.Itoa(len(whole)) {
			t.Fatalf("Content-Range = %q", cr)
		}
		break
	}

	// ffmpeg decodes both manifests, and the durations match the source.
	for _, m := range []string{v.HLS, v.DASH} {
		u := n.base + m
		out := ffmpegRun(t, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", u)
		var probe struct {
			Format struct {
				Duration string `json:"duration"`
			} `json:"format"`
		}
		if err := json.Unmarshal([]byte(out), &probe); err != nil {
			t.Fatalf("ffprobe %s: %v\n%s", u, err, out)
		}
		d, _ := strconv.ParseFloat(probe.Format.Duration, 64)
		if d < duration-0.5 || d > duration+0.5 {
			t.Fatalf("ffprobe %s: duration %.2f, want %.1f±0.5", u, d, duration)
		}
		if out := ffmpegRun(t, "ffmpeg", "-nostdin", "-v", "error", "-i", u, "-f", "null", "-"); strings.TrimSpace(out) != "" {
			t.Fatalf("ffmpeg decoding %s reported errors:\n%s", u, out)
		}
	}
	r, img := get(t, n.base+v.Thumbnail, nil)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/jpeg" || len(img) < 1000 {
		t.Fatalf("thumbnail: %d %s %d bytes", r.StatusCode, r.Header.Get("Content-Type"), len(img))
	}
}

// checkSearch expects q to find exactly wantID. Search reflects a write
// within a second of it (the index is fed off the write path), so it polls.
func checkSearch(t *testing.T, n *node, q, wantID string) {
	t.Helper()
	var res struct {
		Total int     `json:"total"`
		Hits  []video `json:"hits"`
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		status := n.getJSON("/api/v1/search?q="+url.QueryEscape(q), &res)
		if status == 200 && res.Total == 1 && len(res.Hits) == 1 && res.Hits[0].ID == wantID {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("search %q: HTTP %d, %+v, want only %s", q, status, res, wantID)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// checkSearchEmpty expects q to find nothing, within the same second.
func checkSearchEmpty(t *testing.T, n *node, q string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		var res struct {
			Total int `json:"total"`
		}
		n.getJSON("/api/v1/search?q="+url.QueryEscape(q), &res)
		if res.Total == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("search %q still finds %d videos", q, res.Total)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// checkMetrics reads /metrics and checks the given series' values.
func checkMetrics(t *testing.T, n *node, want map[string]float64) {
	t.Helper()
	resp, body := get(t, n.base+"/metrics", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	got := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndex(line, " ")
		if f, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			got[line[:i]] = f
		}
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("metric %s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

// reload loads the embedded config again through Caddy's admin endpoint,
// as 'strata reload' does, and waits for the node to be ready.
func reload(t *testing.T, n *node) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "Caddyfile")
	out, err := exec.Command(strataBin, "default-config").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(strataBin, "reload", "--force", "--config", cfg, "--adapter", "caddyfile",
		"--address", "unix/"+filepath.Join(n.dataDir, "admin.sock"))
	cmd.Env = n.cmd.Env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("strata reload: %v\n%s", err, out)
	}
	n.waitReady(30 * time.Second)
}
