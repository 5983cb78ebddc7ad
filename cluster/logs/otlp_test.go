package logs

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/proto"
)

// TestOTLPShipsEntries runs the OTLP exporter against a collector made of
// an httptest server that decodes the requests with the OTLP protobuf
// types: an entry logged through Tee arrives with its level, message,
// fields and the node as the resource.
func TestOTLPShipsEntries(t *testing.T) {
	var mu sync.Mutex
	var got []*collogs.ExportLogsServiceRequest
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req collogs.ExportLogsServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("not an OTLP request (%s): %v", r.Header.Get("Content-Type"), err)
		}
		mu.Lock()
		got, paths = append(got, &req), append(paths, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collogs.ExportLogsServiceResponse{})
		w.Write(out)
	}))
	defer srv.Close()

	o, err := NewOTLP(context.Background(), OTLPConfig{Endpoint: srv.URL, Node: "node-7", Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	SetExporter(o.Exporter)
	log := zap.New(Tee(zapcore.NewNopCore())).Named("http.handlers.strata_edge")
	log.Warn("otlp test: fetch failed", zap.String("request_id", "abc123"), zap.Int("bytes", 42))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	log.Info("otlp test: after the shutdown, not shipped")

	mu.Lock()
	defer mu.Unlock()
	var found int
	for i, req := range got {
		if paths[i] != "/v1/logs" {
			t.Errorf("path %q, want /v1/logs", paths[i])
		}
		for _, rl := range req.ResourceLogs {
			res := map[string]string{}
			for _, kv := range rl.Resource.GetAttributes() {
				res[kv.Key] = kv.Value.GetStringValue()
			}
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					body := lr.Body.GetStringValue()
					if body == "otlp test: after the shutdown, not shipped" {
						t.Errorf("shipped after the shutdown")
					}
					if body != "otlp test: fetch failed" {
						continue
					}
					found++
					attrs := map[string]any{}
					for _, kv := range lr.Attributes {
						attrs[kv.Key] = kv.Value.GetStringValue()
						attrs[kv.Key+"#int"] = kv.Value.GetIntValue()
					}
					if lr.SeverityText != "warn" || attrs["request_id"] != "abc123" || attrs["bytes#int"] != int64(42) {
						t.Errorf("record: severity %q, attributes %v", lr.SeverityText, attrs)
					}
					if res["service.name"] != "strata" || res["service.instance.id"] != "node-7" {
						t.Errorf("resource %v", res)
					}
				}
			}
		}
	}
	if found != 1 {
		t.Fatalf("the entry arrived %d times in %d requests, want once", found, len(got))
	}
}

func TestNewOTLPRefusesABadEndpoint(t *testing.T) {
	for _, e := range []string{"", "collector:4318", "ftp://collector/v1/logs"} {
		if _, err := NewOTLP(context.Background(), OTLPConfig{Endpoint: e}); err == nil {
			t.Errorf("%q: no error", e)
		}
	}
}
