package transcode

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestProgressWriter(t *testing.T) {
	now := time.Unix(0, 0)
	var got []float64
	w := &progressWriter{durationS: 100, report: func(p float64) { got = append(got, p) }, now: func() time.Time { return now }}
	feed := func(s string) {
		// Split writes at odd places: the parser must reassemble lines.
		for len(s) > 0 {
			n := min(7, len(s))
			w.Write([]byte(s[:n]))
			s = s[n:]
		}
	}
	feed("frame=1\nout_time_us=N/A\nout_time_ms=N/A\nprogress=continue\n")
	for i := 0; i <= 1000; i++ {
		now = now.Add(50 * time.Millisecond)
		feed(fmt.Sprintf("out_time_us=%d\nout_time_ms=%d\nprogress=continue\n", i*110_000, i*110_000))
	}
	feed("out_time_us=50000000\nprogress=end\n") // going backwards is ignored
	if len(got) == 0 {
		t.Fatal("no progress reported")
	}
	for i, p := range got {
		if p < 0 || p >= 100 {
			t.Fatalf("value %v out of 0..100 (100 is the caller's to report)", p)
		}
		if i > 0 && p <= got[i-1] {
			t.Fatalf("not increasing: %v", got)
		}
	}
	// 110 s of output over a 50 s stretch of wall clock, 100 s long: with
	// ≥1 point or ≥500 ms between calls there are at most ~100 calls.
	if len(got) > 110 {
		t.Errorf("%d calls: not throttled", len(got))
	}
	if got[len(got)-1] < 99 {
		t.Errorf("last value %v, want ~99.9", got[len(got)-1])
	}
}

func TestProgressWriterSlowStream(t *testing.T) {
	now := time.Unix(0, 0)
	var got []float64
	w := &progressWriter{durationS: 10000, report: func(p float64) { got = append(got, p) }, now: func() time.Time { return now }}
	// 0.01 % per 100 ms: reported every 500 ms, not every update.
	for i := 1; i <= 50; i++ {
		now = now.Add(100 * time.Millisecond)
		fmt.Fprintf(w, "out_time_us=%d\n", i*1_000_000)
	}
	if len(got) < 9 || len(got) > 11 {
		t.Errorf("%d reports over 5 s, want ~10", len(got))
	}
}

func TestTailWriter(t *testing.T) {
	tw := &tailWriter{max: 3}
	for i := 0; i < 10; i++ {
		fmt.Fprintf(tw, "line %d\r\n", i)
	}
	tw.Write([]byte(strings.Repeat("x", 5000))) // unterminated, too long
	lines := tw.Lines()
	if len(lines) != 3 || lines[0] != "line 8" || lines[1] != "line 9" || len(lines[2]) != maxLineLen {
		t.Fatalf("lines = %q", lines)
	}
}

func TestIsPlainRelative(t *testing.T) {
	for u, want := range map[string]bool{
		"media_0.m3u8": true, "chunk-1-00001.m4s": true, "sub/x.m4s": true,
		"/abs.m4s": false, "../x.m4s": false, "file:x": false, "http://h/x": false, "a/../b": false, "": false, "x?y": false,
	} {
		if got := isPlainRelative(u); got != want {
			t.Errorf("isPlainRelative(%q) = %v", u, got)
		}
	}
}
