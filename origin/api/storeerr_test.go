package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/store"
)

// Cluster trouble reaches clients as a status they can act on, not as a
// server fault.
func TestStoreErrorsToHTTP(t *testing.T) {
	h := &Handler{log: slog.New(slog.DiscardHandler)}
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("apply: %w (leadership lost)", cluster.ErrOutcomeUnknown), http.StatusServiceUnavailable, "outcome_unknown"},
		{fmt.Errorf("apply: %w", cluster.ErrNotLeader), http.StatusServiceUnavailable, ""},
		{fmt.Errorf("apply: %w (timed out enqueuing operation)", context.DeadlineExceeded), http.StatusGatewayTimeout, "timeout"},
		{fmt.Errorf("video x: %w", store.ErrNotFound), http.StatusNotFound, ""},
		{errors.New("disk on fire"), http.StatusInternalServerError, ""},
	} {
		w := httptest.NewRecorder()
		h.writeStoreError(w, tc.err, "video")
		if w.Code != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, w.Code, tc.status)
		}
		var body struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Errorf("%v: body %q: %v", tc.err, w.Body, err)
		}
		if tc.code != "" && body.Error.Code != tc.code {
			t.Errorf("%v: code %q, want %q", tc.err, body.Error.Code, tc.code)
		}
	}
}
