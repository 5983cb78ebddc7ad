package steering

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/model"
)

func edge(id string, healthy bool, bytesPerSec float64, coverage ...string) cluster.EdgeView {
	return cluster.EdgeView{
		Edge:  model.Edge{ID: id, PublicURL: "https://" + id + ".example", Coverage: coverage},
		Known: true, Healthy: healthy, Load: cluster.EdgeLoad{BytesPerSec: bytesPerSec},
	}
}

func order(r []Ranked) []string {
	out := make([]string, len(r))
	for i, e := range r {
		out[i] = e.ID
	}
	return out
}

// TestRank: the most specific covering block wins, unhealthy edges are
// never chosen, load breaks ties, and a viewer no edge covers is the
// origin's.
func TestRank(t *testing.T) {
	wide := edge("wide", true, 0, "10.0.0.0/8")
	narrow := edge("narrow", true, 500, "10.1.2.0/24")
	busy := edge("busy", true, 900, "10.1.2.0/24")
	down := edge("down", false, 0, "10.1.2.3/32")
	v6 := edge("v6", true, 0, "2001:db8::/32")
	unknown := cluster.EdgeView{Edge: model.Edge{ID: "new", PublicURL: "https://new.example", Coverage: []string{"192.0.2.0/24"}}}
	all := []cluster.EdgeView{wide, narrow, busy, down, v6, unknown}
	for _, tc := range []struct {
		name   string
		client string
		edges  []cluster.EdgeView
		want   []string
		chosen string // "" = the origin
	}{
		{"most specific block wins over a less loaded wider one", "10.1.2.3", all,
			[]string{"narrow", "busy", "wide", "new", "v6", "down"}, "narrow"},
		{"load breaks a tie between equal blocks", "10.1.2.3", []cluster.EdgeView{busy, narrow},
			[]string{"narrow", "busy"}, "narrow"},
		{"unhealthy most specific edge skipped", "10.1.2.3", []cluster.EdgeView{down, wide},
			[]string{"wide", "down"}, "wide"},
		{"only the wide block covers", "10.9.9.9", all,
			[]string{"wide", "new", "v6", "narrow", "busy", "down"}, "wide"},
		{"IPv6", "2001:db8::5", all,
			[]string{"v6", "new", "wide", "narrow", "busy", "down"}, "v6"},
		{"IPv4-mapped IPv6 is IPv4", "::ffff:10.1.2.3", []cluster.EdgeView{wide, narrow},
			[]string{"narrow", "wide"}, "narrow"},
		{"unknown edges are usable", "192.0.2.7", all,
			[]string{"new", "v6", "wide", "narrow", "busy", "down"}, "new"},
		{"nobody covers: the origin", "203.0.113.9", []cluster.EdgeView{wide, narrow, down},
			[]string{"wide", "narrow", "down"}, ""},
		{"only unhealthy coverage: the origin", "10.1.2.3", []cluster.EdgeView{down},
			[]string{"down"}, ""},
		{"no edges", "10.1.2.3", nil, []string{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Rank(tc.edges, netip.MustParseAddr(tc.client))
			if got := order(r); !slices.Equal(got, tc.want) {
				t.Fatalf("order = %v, want %v", got, tc.want)
			}
			c := Chosen(r)
			if (c == nil) != (tc.chosen == "") || c != nil && c.ID != tc.chosen {
				t.Fatalf("chosen = %+v, want %q", c, tc.chosen)
			}
		})
	}
	if got := PathwayID("edge 1/é"); got != "edge_1__" {
		t.Fatalf("PathwayID = %q", got)
	}
}

// TestManifest: the priority lists the usable edges in rank order, the
// reload goes to the best one's steering server; DASH names service
// locations.
func TestManifest(t *testing.T) {
	r := Rank([]cluster.EdgeView{edge("a", true, 0, "10.0.0.0/8"), edge("b", true, 0), edge("c", false, 0, "10.0.0.0/8")},
		netip.MustParseAddr("10.0.0.1"))
	m, ok := NewManifest(r, "vid1", false, DefaultTTL)
	if !ok {
		t.Fatal("no manifest")
	}
	raw, _ := json.Marshal(m)
	want := `{"VERSION":1,"TTL":30,"RELOAD-URI":"https://a.example/api/v1/steering/vid1","PATHWAY-PRIORITY":["a","b"]}`
	if string(raw) != want {
		t.Fatalf("manifest = %s\nwant       %s", raw, want)
	}
	m, _ = NewManifest(r, "vid1", true, DefaultTTL)
	raw, _ = json.Marshal(m)
	want = `{"VERSION":1,"TTL":30,"RELOAD-URI":"https://a.example/api/v1/steering/vid1?dash=1","SERVICE-LOCATION-PRIORITY":["a","b"]}`
	if string(raw) != want {
		t.Fatalf("DASH manifest = %s\nwant            %s", raw, want)
	}
	// Every edge down: all of them, rather than an empty (invalid) list.
	r = Rank([]cluster.EdgeView{edge("a", false, 0), edge("b", false, 0)}, netip.Addr{})
	if m, _ := NewManifest(r, "v", false, DefaultTTL); !slices.Equal(m.PathwayPriority, []string{"a", "b"}) {
		t.Fatalf("all down: %v", m.PathwayPriority)
	}
	if _, ok := NewManifest(nil, "v", false, DefaultTTL); ok {
		t.Fatal("a manifest without edges")
	}
}

const master = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1",NAME="audio_0",DEFAULT=YES,URI="media_2.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",DEFAULT=NO,AUTOSELECT=YES,LANGUAGE="en",URI="captions/en.m3u8"
#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH=1200000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,AUDIO="group_A1",SUBTITLES="subs"
media_0.m3u8
#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH=600000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,AUDIO="group_A1",SUBTITLES="subs"
media_1.m3u8
`

// TestSteerMaster: each pathway repeats every variant and rendition with
// absolute URIs on its edge, its own group names and its PATHWAY-ID; the
// steering tag names the server and the first pathway.
func TestSteerMaster(t *testing.T) {
	ps := []Pathway{{ID: "a", Base: "https://a.example/media/v1/"}, {ID: "b", Base: "http://127.0.0.3:8081/cdn/media/v1/"}}
	out, err := SteerMaster([]byte(master), ps, "/api/v1/steering/v1")
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{
		`#EXT-X-CONTENT-STEERING:SERVER-URI="/api/v1/steering/v1",PATHWAY-ID="a"` + "\n",
		`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1_a",NAME="audio_0",DEFAULT=YES,URI="https://a.example/media/v1/media_2.m3u8"`,
		`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1_b",NAME="audio_0",DEFAULT=YES,URI="http://127.0.0.3:8081/cdn/media/v1/media_2.m3u8"`,
		`GROUP-ID="subs_b",NAME="English",DEFAULT=NO,AUTOSELECT=YES,LANGUAGE="en",URI="http://127.0.0.3:8081/cdn/media/v1/captions/en.m3u8"`,
		`RESOLUTION=1280x720,AUDIO="group_A1_a",SUBTITLES="subs_a",PATHWAY-ID="a"` + "\nhttps://a.example/media/v1/media_0.m3u8\n",
		`RESOLUTION=640x360,AUDIO="group_A1_b",SUBTITLES="subs_b",PATHWAY-ID="b"` + "\nhttp://127.0.0.3:8081/cdn/media/v1/media_1.m3u8\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("steered master lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "#EXT-X-STREAM-INF:"); n != 4 {
		t.Errorf("%d variants, want 2 per pathway:\n%s", n, got)
	}
	if n := strings.Count(got, "#EXT-X-MEDIA:"); n != 4 {
		t.Errorf("%d renditions, want 2 per pathway:\n%s", n, got)
	}
	if strings.Index(got, `PATHWAY-ID="b"`) < strings.LastIndex(got, `SUBTITLES="subs_a",PATHWAY-ID="a"`) {
		t.Errorf("pathways interleaved:\n%s", got)
	}
	if same, _ := SteerMaster([]byte(master), nil, "x"); string(same) != master {
		t.Error("no pathways changed the master")
	}
	if _, err := SteerMaster([]byte("#EXTM3U\n#EXTINF:4,\nseg.m4s\n"), ps, "x"); err == nil {
		t.Error("a media playlist was steered")
	}
}

// TestSteerMPD: BaseURLs per service location and the ContentSteering
// element go before the Period, indented like it; nothing else moves.
func TestSteerMPD(t *testing.T) {
	const in = `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static">
	<ProgramInformation>
	</ProgramInformation>
	<Period id="0" start="PT0.0S">
		<AdaptationSet id="0" contentType="video"><Representation id="0" bandwidth="1"/></AdaptationSet>
	</Period>
</MPD>
`
	ps := []Pathway{{ID: "a", Base: "https://a.example/media/v1/"}, {ID: "b", Base: "https://b.example/media/v1/?x&y"}}
	out, err := SteerMPD([]byte(in), ps, "/api/v1/steering/v1?dash=1")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(in, "\t<Period id", `	<BaseURL serviceLocation="a">https://a.example/media/v1/</BaseURL>
	<BaseURL serviceLocation="b">https://b.example/media/v1/?x&amp;y</BaseURL>
	<ContentSteering defaultServiceLocation="a" queryBeforeStart="true">/api/v1/steering/v1?dash=1</ContentSteering>
	<Period id`, 1)
	if string(out) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	// An MPD with BaseURLs of its own is left as it is.
	own := strings.Replace(in, "\t<Period", "\t<BaseURL>https://cdn.example/</BaseURL>\n\t<Period", 1)
	if out, err := SteerMPD([]byte(own), ps, "x"); err != nil || string(out) != own {
		t.Fatalf("own BaseURL: %v\n%s", err, out)
	}
	if _, err := SteerMPD([]byte(`<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"></MPD>`), ps, "x"); err == nil {
		t.Error("an MPD without a Period was steered")
	}
}

// TestForManifest: an edge's fill gets that edge first in a viewer-neutral
// order; another shared cache gets no steering; a viewer asking directly
// gets its own order when an edge covers it and none when not.
func TestForManifest(t *testing.T) {
	edges := []cluster.EdgeView{edge("a", true, 100, "10.0.0.0/8"), edge("b", true, 0, "192.0.2.0/24"), edge("c", false, 0)}
	req := func(remote, edgeHeader string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/media/v/master.m3u8", nil)
		r.RemoteAddr = remote
		if edgeHeader != "" {
			r.Header.Set(cluster.EdgeHeader, edgeHeader)
		}
		return r
	}
	for _, tc := range []struct {
		name      string
		r         *http.Request
		want      []string
		perViewer bool
	}{
		{"fill by edge a", req("10.9.9.9:4000", "a"), []string{"a", "b", "c"}, false},
		{"fill by edge c, down or not", req("10.9.9.9:4000", "c"), []string{"c", "b", "a"}, false},
		{"fill by an unregistered cache", req("10.9.9.9:4000", "all-in-one"), []string{}, false},
		{"viewer covered by a", req("10.1.1.1:4000", ""), []string{"a", "b", "c"}, true},
		{"viewer covered by b", req("192.0.2.9:4000", ""), []string{"b", "a", "c"}, true},
		{"viewer nobody covers", req("203.0.113.1:4000", ""), []string{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, per := ForManifest(tc.r, edges)
			if got := order(r); !slices.Equal(got, tc.want) || per != tc.perViewer {
				t.Fatalf("order %v per-viewer %v, want %v %v", got, per, tc.want, tc.perViewer)
			}
		})
	}
	if r, _ := ForManifest(req("10.1.1.1:4000", ""), nil); r != nil {
		t.Fatalf("steered with no edges: %v", r)
	}
	ps := Pathways(Rank(edges[:1], netip.Addr{}), "v 1")
	if len(ps) != 1 || ps[0].ID != "a" || ps[0].Base != "https://a.example/media/v%201/" {
		t.Fatalf("pathways = %+v", ps)
	}
}
