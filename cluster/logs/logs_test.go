package logs

import (
	"errors"
	"fmt"
	"net/url"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestRingKeepsTheNewestAndFilters(t *testing.T) {
	r := NewRing(5)
	log := zap.New(NewCore(r)).Named("strata").With(zap.String("video_id", "vid1"))
	log.Debug("not kept: below info")
	for i := range 7 {
		log.Info(fmt.Sprintf("entry %d", i), zap.Int("i", i))
	}
	log.Warn("the edge failed", zap.Error(errors.New("connection refused")))

	all := r.Entries(Filter{})
	if len(all) != 5 {
		t.Fatalf("%d entries, want the ring's 5", len(all))
	}
	if all[0].Message != "entry 3" || all[4].Message != "the edge failed" {
		t.Fatalf("entries %q … %q, want entry 3 … the edge failed (oldest first)", all[0].Message, all[4].Message)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("seq not increasing: %d then %d", all[i-1].Seq, all[i].Seq)
		}
	}
	if all[4].Logger != "strata" || all[4].Fields["video_id"] != "vid1" || all[4].Fields["error"] != "connection refused" {
		t.Fatalf("the warning's logger and fields: %q %v", all[4].Logger, all[4].Fields)
	}
	if got := r.Entries(Filter{Level: zapcore.WarnLevel}); len(got) != 1 || got[0].Level != "warn" {
		t.Fatalf("level warn: %+v", got)
	}
	if got := r.Entries(Filter{Query: "REFUSED"}); len(got) != 1 {
		t.Fatalf("q in a field's value, any case: %d entries", len(got))
	}
	if got := r.Entries(Filter{Query: "entry"}); len(got) != 4 {
		t.Fatalf("q in the message: %d entries, want 4", len(got))
	}
	if got := r.Entries(Filter{Limit: 2}); len(got) != 2 || got[1].Message != "the edge failed" || got[0].Message != "entry 6" {
		t.Fatalf("limit keeps the newest: %+v", got)
	}
}

func TestParseFilter(t *testing.T) {
	f, err := ParseFilter(url.Values{"level": {"warn"}, "q": {" abc "}, "limit": {"10"}})
	if err != nil || f.Level != zapcore.WarnLevel || f.Query != "abc" || f.Limit != 10 {
		t.Fatalf("%+v %v", f, err)
	}
	back, err := ParseFilter(f.Values())
	if err != nil || back != f {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	for _, bad := range []url.Values{{"level": {"loud"}}, {"limit": {"0"}}, {"limit": {"100000"}}, {"limit": {"x"}}} {
		if _, err := ParseFilter(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestTeeKeepsCaddysCoreAndExports(t *testing.T) {
	before := len(Default.Entries(Filter{Query: "tee test"}))
	caddyCore, caddyLogs := observer.New(zapcore.DebugLevel)
	exportCore, exported := observer.New(zapcore.InfoLevel)
	x := NewExporter(exportCore)
	SetExporter(x)
	defer ClearExporter(x)
	log := zap.New(Tee(caddyCore)).With(zap.String("request_id", "r1"))
	log.Debug("tee test: debug goes to Caddy only")
	log.Info("tee test: info goes everywhere")
	if caddyLogs.Len() != 2 {
		t.Fatalf("Caddy's core got %d entries, want 2", caddyLogs.Len())
	}
	if got := Default.Entries(Filter{Query: "tee test"}); len(got)-before != 1 || got[len(got)-1].Fields["request_id"] != "r1" {
		t.Fatalf("the ring: %+v", got)
	}
	if exported.Len() != 1 || exported.All()[0].ContextMap()["request_id"] != "r1" {
		t.Fatalf("the exporter got %+v", exported.All())
	}
}
