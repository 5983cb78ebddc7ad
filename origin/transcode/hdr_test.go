package transcode

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lumaStats decodes the first video stream of path through filters and
// returns the mean over all frames of signalstats' YAVG and of YHIGH−YLOW
// (the spread between the 90th and 10th percentile: contrast). A washed-out
// picture has a small spread; a crushed or dim one a low average.
func lumaStats(t *testing.T, path, filters string) (avg, spread float64) {
	t.Helper()
	stats := filepath.Join(t.TempDir(), "stats.txt")
	vf := "signalstats,metadata=mode=print:file=" + stats
	if filters != "" {
		vf = filters + "," + vf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-protocol_whitelist", "file",
		"-i", path, "-map", "0:v:0", "-vf", vf, "-f", "null", "-").CombinedOutput(); err != nil {
		t.Fatalf("signalstats of %s: %v\n%s", path, err, b)
	}
	var n, low, high float64
	for _, l := range strings.Split(string(mustRead(t, stats)), "\n") {
		k, v, ok := strings.Cut(l, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			continue
		}
		switch k {
		case "lavfi.signalstats.YAVG":
			avg += f
			n++
		case "lavfi.signalstats.YLOW":
			low += f
		case "lavfi.signalstats.YHIGH":
			high += f
		}
	}
	if n == 0 {
		t.Fatalf("no signalstats for %s", path)
	}
	return avg / n, (high - low) / n
}

// The same colour bars as SDR, as HDR10 (PQ) and as HLG, through
// Transcode: the HDR outputs must look like the SDR one (average luma
// within 20%, contrast at least 80%), be 8-bit and be tagged BT.709.
// Without tone mapping the HDR sources fail the same bounds (the control
// below), so the bounds do tell a right picture from a wrong one.
func TestHDRToneMapLooksRight(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	cfg := testConfig()
	src := smptebars(320, 180, 2)
	x265 := []string{"-c:v", "libx265", "-preset", "ultrafast", "-colorspace", "bt2020nc", "-color_primaries", "bt2020", "-tag:v", "hvc1"}
	sources := map[string]string{
		"sdr": genMedia(t, filepath.Join(dir, "sdr.mp4"), append(src, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")...),
		"pq": genMedia(t, filepath.Join(dir, "pq.mp4"), append(src, append([]string{"-vf", toHDR("smpte2084"),
			"-x265-params", hdr10Params, "-color_trc", "smpte2084"}, x265...)...)...),
		"hlg": genMedia(t, filepath.Join(dir, "hlg.mp4"), append(src, append([]string{"-vf", toHDR("arib-std-b67"),
			"-x265-params", "log-level=error", "-color_trc", "arib-std-b67"}, x265...)...)...),
	}
	outs := map[string]string{}
	for _, name := range []string{"sdr", "pq", "hlg"} {
		out := filepath.Join(dir, "out-"+name)
		res, err := Transcode(context.Background(), cfg, sources[name], nil, out, nil)
		if err != nil {
			t.Fatalf("%s: Transcode: %v", name, err)
		}
		outs[name] = filepath.Join(out, res.Renditions[0].Playlist)
	}
	refAvg, refSpread := lumaStats(t, outs["sdr"], "")
	t.Logf("SDR reference: average luma %.1f, spread %.1f", refAvg, refSpread)
	looksRight := func(avg, spread float64) bool {
		return avg > 0.8*refAvg && avg < 1.2*refAvg && spread > 0.8*refSpread
	}
	for _, name := range []string{"pq", "hlg"} {
		avg, spread := lumaStats(t, outs[name], "")
		t.Logf("%s: average luma %.1f, spread %.1f", name, avg, spread)
		if !looksRight(avg, spread) {
			t.Errorf("%s output does not look like the SDR reference: average %.1f (ref %.1f), spread %.1f (ref %.1f)",
				name, avg, refAvg, spread, refSpread)
		}
		st := firstVideoStream(t, outs[name])
		if st.PixFmt != "yuv420p" || st.ColorPrim != "bt709" || st.ColorTrans != "bt709" || st.ColorSpace != "bt709" || st.ColorRange != "tv" {
			t.Errorf("%s output is %s %s/%s/%s/%s, want yuv420p tagged bt709 tv",
				name, st.PixFmt, st.ColorPrim, st.ColorTrans, st.ColorSpace, st.ColorRange)
		}
		// Control: the same source merely cut to 8 bits, as before tone
		// mapping existed.
		if avg, spread := lumaStats(t, sources[name], "format=yuv420p"); looksRight(avg, spread) {
			t.Errorf("%s without tone mapping passes too (average %.1f, spread %.1f): the bounds prove nothing", name, avg, spread)
		}
	}
}

func smptebars(w, h int, seconds float64) []string {
	return []string{"-f", "lavfi", "-i", "smptebars=size=" + strconv.Itoa(w) + "x" + strconv.Itoa(h) + ":rate=30:duration=" +
		strconv.FormatFloat(seconds, 'f', 3, 64)}
}

func firstVideoStream(t *testing.T, path string) ffprobeStream {
	t.Helper()
	for _, s := range probeStreams(t, path) {
		if s.CodecType == "video" {
			return s
		}
	}
	t.Fatalf("%s has no video stream", path)
	return ffprobeStream{}
}

func TestHDRDetection(t *testing.T) {
	cfg := DefaultConfig()
	probe := func(stream string) *Probe {
		var o ffprobeOutput
		js := `{"streams":[{"index":0,"codec_type":"video","codec_name":"hevc","width":1920,"height":1080,"avg_frame_rate":"30/1",` +
			stream + `}],"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"10.0","size":"1000"}}`
		if err := json.Unmarshal([]byte(js), &o); err != nil {
			t.Fatal(err)
		}
		p, err := interpretProbe(cfg, &o, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct {
		name, stream, hdr string
	}{
		{"HDR10", `"pix_fmt":"yuv420p10le","color_primaries":"bt2020","color_transfer":"smpte2084","color_space":"bt2020nc"`, HDRPQ},
		{"HLG", `"pix_fmt":"yuv420p10le","color_primaries":"bt2020","color_transfer":"arib-std-b67","color_space":"bt2020nc"`, HDRHLG},
		{"10-bit SDR BT.709", `"pix_fmt":"yuv420p10le","color_primaries":"bt709","color_transfer":"bt709","color_space":"bt709"`, ""},
		{"10-bit SDR BT.2020", `"pix_fmt":"yuv420p10le","color_primaries":"bt2020","color_transfer":"bt2020-10","color_space":"bt2020nc"`, ""},
		{"10-bit untagged", `"pix_fmt":"yuv420p10le","color_transfer":"unknown"`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := probe(tt.stream)
			if p.HDR != tt.hdr {
				t.Fatalf("HDR = %q, want %q", p.HDR, tt.hdr)
			}
			ep := newEncodePlan(cfg, p, "/in", "/out")
			graph := ep.filterGraph()
			if tone := strings.Contains(graph, "tonemap"); tone != (tt.hdr != "") {
				t.Errorf("tone mapping %v in %s", tone, graph)
			}
			if tags := colourArgs(p); (len(tags) > 0) != (tt.hdr != "") {
				t.Errorf("colour tags %v", tags)
			}
		})
	}
}

// Segment names must change when the pixels do: the same upload encoded
// with and without tone mapping may not share a name a cache holds as
// immutable.
func TestSettingsSignatureFollowsFilters(t *testing.T) {
	cfg := DefaultConfig()
	base := Probe{FormatName: "mov", Demuxer: "mov", DurationS: 10, SizeBytes: 1000, HasVideo: true,
		Width: 1920, Height: 1080, FPS: 30, FrameRate: "30/1", ColorTransfer: "smpte2084"}
	sig := func(p Probe) string { return newEncodePlan(cfg, &p, "/in", "/out").sig }
	sdr, hdr, hlg := base, base, base
	hdr.HDR, hlg.HDR = HDRPQ, HDRHLG
	if sig(sdr) == sig(hdr) || sig(hdr) == sig(hlg) {
		t.Errorf("signatures sdr %s pq %s hlg %s: tone mapping does not change them", sig(sdr), sig(hdr), sig(hlg))
	}
	if sig(hdr) != sig(hdr) {
		t.Error("signature not stable")
	}
}
