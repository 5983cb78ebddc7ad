package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// startEdgeCluster runs one origin and two edge nodes, edge-a and edge-b,
// each with a public URL and the coverage given, filling from the origin.
func startEdgeCluster(t *testing.T, dir string, ui bool, coverA, coverB string) (o, a, b *clusterNode) {
	t.Helper()
	o = startMember(t, dir, member{name: "o1", origin: "workers 1", ui: ui})
	originAddr := strings.TrimPrefix(o.base, "http://")
	edge := func(name, region, cover string) *clusterNode {
		port := freePort(t)
		return startMember(t, dir, member{name: name, join: o.clusterAddr, httpPort: port, edgeOrigin: originAddr,
			edge: fmt.Sprintf("disk off\npublic_url http://127.0.0.1:%d\nregion %s\ncoverage %s", port, region, cover)})
	}
	return o, edge("edge-a", "test-a", coverA), edge("edge-b", "test-b", coverB)
}

// clientFrom is an HTTP client whose connections come from ip (all of
// 127/8 is loopback on Linux), so a node sees a viewer at that address.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 30 * time.Second}
}

// edgeVideo is what the tests read of a video answer about edges.
type edgeVideo struct {
	Status string `json:"status"`
	HLS    string `json:"hls"`
	DASH   string `json:"dash"`
	Edge   string `json:"edge"`
	Edges  []struct {
		ID     string `json:"id"`
		URL    string `json:"url"`
		Covers bool   `json:"covers"`
	} `json:"edges"`
	MediaToken string `json:"media_token"`
}

// fetch GETs u with c, with the request headers given.
func fetch(t *testing.T, c *http.Client, u string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
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

// waitEdgeChoice polls the video's answer for a viewer until it names
// want as the viewer's edge ("" = the origin): edges register a few
// seconds after they join, and health is asked every few seconds.
func waitEdgeChoice(t *testing.T, c *http.Client, origin, id, want string, hdr map[string]string) edgeVideo {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		resp, body := fetch(t, c, origin+"/api/v1/videos/"+id, hdr)
		var v edgeVideo
		if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &v) == nil && v.Edge == want {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API never chose %q for this viewer: %d %s", want, resp.StatusCode, body)
		}
		time.Sleep(200 * time.Millisecond) // poll interval
	}
}

// steeringPriority is the steering manifest's priority for a viewer.
func steeringPriority(t *testing.T, c *http.Client, u string) []string {
	t.Helper()
	resp, body := fetch(t, c, u, nil)
	var m struct {
		Version  int      `json:"VERSION"`
		TTL      int      `json:"TTL"`
		Reload   string   `json:"RELOAD-URI"`
		Priority []string `json:"PATHWAY-PRIORITY"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &m) != nil || m.Version != 1 || m.TTL <= 0 {
		t.Fatalf("steering manifest %s: %d %s", u, resp.StatusCode, body)
	}
	return m.Priority
}

// pathwayVariant is the first variant URI of a pathway in a steered master.
func pathwayVariant(master, pathway string) string {
	ls := strings.Split(master, "\n")
	for i, l := range ls {
		if strings.HasPrefix(l, "#EXT-X-STREAM-INF:") && strings.Contains(l, `PATHWAY-ID="`+pathway+`"`) && i+1 < len(ls) {
			return ls[i+1]
		}
	}
	return ""
}

// firstSegment is the first media segment of a media playlist, resolved
// against its URL.
func firstSegment(playlistURL, playlist string) string {
	base := playlistURL[:strings.LastIndex(playlistURL, "/")+1]
	for _, l := range strings.Split(playlist, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			if strings.Contains(l, "://") {
				return l
			}
			return base + l
		}
	}
	return ""
}

// TestEdgeCoverage: one origin, two edges whose coverage holds one viewer
// address each. The API sends the viewer at 127.0.0.2 to edge A and the
// one at 127.0.0.3 to edge B, with absolute manifest URLs there; the
// master and a segment come through that edge (X-Cache, CORS), steered
// with that edge first and the other as the next pathway; the steering
// server ranks each viewer's edge first; a viewer no edge covers stays on
// the origin; a private video's token works through the edge; and when
// edge A dies its viewer's steering and answer leave it.
func TestEdgeCoverage(t *testing.T) {
	dir := t.TempDir()
	o, a, b := startEdgeCluster(t, dir, false, "127.0.0.2/32", "127.0.0.3/32 10.0.0.0/8")
	src := makeVideo(t, dir, "coverage.mp4", 6, "320x240")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	id := uploadWhole(t, o.node, data, "Coverage")
	if v := o.waitVideo(id, 3*time.Minute); v.Status != "ready" {
		t.Fatalf("video: %s %s", v.Status, v.Error)
	}

	for _, vw := range []struct {
		ip          string
		edge        *clusterNode
		name, other string
	}{{"127.0.0.2", a, "edge-a", "edge-b"}, {"127.0.0.3", b, "edge-b", "edge-a"}} {
		t.Run(vw.name, func(t *testing.T) {
			c := clientFrom(vw.ip)
			v := waitEdgeChoice(t, c, o.base, id, vw.name, nil)
			prefix := vw.edge.base + "/media/" + id + "/"
			if !strings.HasPrefix(v.HLS, prefix) || !strings.HasPrefix(v.DASH, prefix) {
				t.Fatalf("manifests not on %s: %q %q", vw.edge.base, v.HLS, v.DASH)
			}
			if len(v.Edges) != 2 || v.Edges[0].ID != vw.name || !v.Edges[0].Covers || v.Edges[1].ID != vw.other || v.Edges[1].Covers {
				t.Fatalf("edges = %+v", v.Edges)
			}

			resp, master := fetch(t, c, v.HLS, nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Cache") == "" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("master through the edge: %d X-Cache %q ACAO %q", resp.StatusCode, resp.Header.Get("X-Cache"), resp.Header.Get("Access-Control-Allow-Origin"))
			}
			steer := fmt.Sprintf(`#EXT-X-CONTENT-STEERING:SERVER-URI="/api/v1/steering/%s",PATHWAY-ID="%s"`, id, vw.name)
			if !strings.Contains(string(master), steer) {
				t.Fatalf("master lacks %s:\n%s", steer, master)
			}
			mine, theirs := pathwayVariant(string(master), vw.name), pathwayVariant(string(master), vw.other)
			otherEdge := map[string]*clusterNode{"edge-a": a, "edge-b": b}[vw.other]
			if !strings.HasPrefix(mine, prefix) || !strings.HasPrefix(theirs, otherEdge.base+"/media/"+id+"/") {
				t.Fatalf("pathway variants %q and %q:\n%s", mine, theirs, master)
			}
			resp, playlist := fetch(t, c, mine, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("media playlist %s: %d", mine, resp.StatusCode)
			}
			seg := firstSegment(mine, string(playlist))
			if !strings.HasPrefix(seg, prefix) {
				t.Fatalf("segment %q of %s", seg, mine)
			}
			r1, b1 := fetch(t, c, seg, map[string]string{"Origin": "http://page.example"})
			r2, b2 := fetch(t, c, seg, nil)
			if r1.StatusCode != http.StatusOK || r1.Header.Get("X-Cache") == "" || len(b1) == 0 ||
				!strings.Contains(r1.Header.Get("Access-Control-Expose-Headers"), "Content-Range") {
				t.Fatalf("segment: %d X-Cache %q expose %q", r1.StatusCode, r1.Header.Get("X-Cache"), r1.Header.Get("Access-Control-Expose-Headers"))
			}
			if r2.StatusCode != http.StatusOK || r2.Header.Get("X-Cache") != "HIT-MEM" || string(b1) != string(b2) {
				t.Fatalf("segment again: %d X-Cache %q", r2.StatusCode, r2.Header.Get("X-Cache"))
			}

			// The steering server, on the origin and on the edge.
			for _, server := range []string{o.base, vw.edge.base} {
				if got := steeringPriority(t, c, server+"/api/v1/steering/"+id+"?_HLS_pathway="+vw.name+"&_HLS_throughput=5000000"); !slices.Equal(got, []string{vw.name, vw.other}) {
					t.Fatalf("steering from %s: %v", server, got)
				}
			}
			resp, mpd := fetch(t, c, v.DASH, nil)
			if resp.StatusCode != http.StatusOK ||
				!strings.Contains(string(mpd), fmt.Sprintf(`<ContentSteering defaultServiceLocation="%s" queryBeforeStart="true">/api/v1/steering/%s?dash=1</ContentSteering>`, vw.name, id)) ||
				!strings.Contains(string(mpd), fmt.Sprintf(`<BaseURL serviceLocation="%s">%s</BaseURL>`, vw.other, otherEdge.base+"/media/"+id+"/")) {
				t.Fatalf("MPD through the edge: %d\n%s", resp.StatusCode, mpd)
			}
			// A player without steering (ffmpeg) still decodes both steered
			// manifests through the edge. (It takes the other pathway's
			// variants for more variants and says so when it switches
			// hosts: not an error.)
			for _, m := range []string{v.HLS, v.DASH} {
				out := ffmpegRun(t, "ffmpeg", "-nostdin", "-v", "error", "-i", m, "-t", "2", "-f", "null", "-")
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					if l != "" && !strings.Contains(l, "Cannot reuse HTTP connection for different host") {
						t.Fatalf("ffmpeg decoding %s reported errors:\n%s", m, out)
					}
				}
			}
		})
	}

	// The admin cluster view has the registry, and each edge's load in
	// its status.
	tok, _ := nodeTokens.Load(strings.TrimPrefix(o.base, "http://"))
	resp, body := fetch(t, http.DefaultClient, o.base+"/api/v1/admin/cluster", map[string]string{"Authorization": "Bearer " + tok.(string)})
	var view struct {
		Nodes []struct {
			ID       string          `json:"id"`
			EdgeLoad json.RawMessage `json:"edge_load"`
		} `json:"nodes"`
		Edges []struct {
			ID        string   `json:"id"`
			PublicURL string   `json:"public_url"`
			Region    string   `json:"region"`
			Coverage  []string `json:"coverage"`
		} `json:"edges"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &view) != nil || len(view.Edges) != 2 ||
		view.Edges[0].ID != "edge-a" || view.Edges[0].PublicURL != a.base || view.Edges[0].Region != "test-a" ||
		!slices.Equal(view.Edges[1].Coverage, []string{"10.0.0.0/8", "127.0.0.3/32"}) {
		t.Fatalf("admin cluster view: %d %s", resp.StatusCode, body)
	}
	for _, nd := range view.Nodes {
		if (nd.ID != "o1") != (len(nd.EdgeLoad) > 0) {
			t.Fatalf("node %s: edge_load %s", nd.ID, nd.EdgeLoad)
		}
	}

	// A viewer no edge covers is served by the origin, unsteered.
	c4 := clientFrom("127.0.0.4")
	v4 := waitEdgeChoice(t, c4, o.base, id, "", nil)
	if v4.HLS != "/media/"+id+"/master.m3u8" || len(v4.Edges) != 0 {
		t.Fatalf("uncovered viewer: %+v", v4)
	}
	if _, master := fetch(t, c4, o.base+v4.HLS, nil); strings.Contains(string(master), "CONTENT-STEERING") {
		t.Fatalf("the origin steered a viewer no edge covers:\n%s", master)
	}

	// A private video's token works through the edge; without it the edge
	// refuses, readably cross-origin.
	req, _ := http.NewRequest(http.MethodPatch, o.base+"/api/v1/videos/"+id, strings.NewReader(`{"visibility":"private"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH private: %d", resp.StatusCode)
	}
	c2 := clientFrom("127.0.0.2")
	pv := waitEdgeChoice(t, c2, o.base, id, "edge-a", map[string]string{"Authorization": "Bearer " + tok.(string)})
	if pv.MediaToken == "" || !strings.HasSuffix(pv.HLS, "?token="+pv.MediaToken) || !strings.HasPrefix(pv.HLS, a.base+"/media/") {
		t.Fatalf("private answer: %+v", pv)
	}
	// The edge applies the change (and purges its copies) a moment after
	// the origin answered the PATCH.
	var master []byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, master = fetch(t, c2, pv.HLS, nil)
		if resp.StatusCode == http.StatusOK && strings.Contains(resp.Header.Get("Cache-Control"), "private") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("private master through the edge: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
	variant := pathwayVariant(string(master), "edge-a")
	resp, playlist := fetch(t, c2, variant+"?token="+pv.MediaToken, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("private playlist: %d", resp.StatusCode)
	}
	seg := firstSegment(variant, string(playlist))
	if resp, _ := fetch(t, c2, seg+"?token="+pv.MediaToken, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("private segment with its token: %d", resp.StatusCode)
	}
	if resp, _ := fetch(t, c2, seg, nil); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("private segment without a token: %d ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	// Edge A dies: once the origin has heard, A's viewer is steered to B
	// alone, and the API falls back to the origin (no live edge covers it).
	a.kill()
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Equal(steeringPriority(t, c2, o.base+"/api/v1/steering/"+id), []string{"edge-b"}) {
		if time.Now().After(deadline) {
			t.Fatalf("steering still lists edge-a 30 s after it died")
		}
		time.Sleep(200 * time.Millisecond) // poll interval
	}
	if v := waitEdgeChoice(t, c2, o.base, id, "", map[string]string{"Authorization": "Bearer " + tok.(string)}); !strings.HasPrefix(v.HLS, "/media/") {
		t.Fatalf("after edge A died: %+v", v)
	}
}
