package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Uploads and edits need an account since issue 3. The tests written
// before it act as an admin: every node a test starts gets an admin API
// token from `strata admin create e2e --token` (the same command an
// operator's script runs), and writes to that node carry it.
//
// Reads are left anonymous on purpose, so the tests that check what an
// anonymous viewer sees (a private video's 404s) still check exactly that.
// Tests of accounts themselves send their own Authorization header, which
// is never replaced.

// nodeTokens maps a node's host:port to its admin token.
var nodeTokens sync.Map

// lastToken is the token of the node started last, for the browser.
var lastToken struct {
	sync.Mutex
	v string
}

// adminToken runs `strata admin create NAME --token` beside n. A node
// that is still joining its cluster cannot write yet: the command is
// retried until it succeeds or 60 s have passed.
func adminToken(t *testing.T, n *node, name string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, strataBin, "admin", "create", name, "--token")
		cmd.Env = append(os.Environ(), "STRATA_ADMIN=unix/"+filepath.Join(n.dataDir, "admin.sock"))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		cancel()
		if err == nil {
			tok := strings.TrimSpace(string(out))
			if !strings.HasPrefix(tok, "strata_") || strings.ContainsAny(tok, " \n") {
				t.Fatalf("strata admin create --token printed %q, not only a token", out)
			}
			return tok
		}
		if time.Now().After(deadline) {
			t.Fatalf("strata admin create %s --token: %v\n%s%s", name, err, out, stderr.String())
		}
		time.Sleep(200 * time.Millisecond) // poll interval
	}
}

// registerToken gives n's writes an admin token.
func (n *node) registerToken() {
	n.t.Helper()
	tok := adminToken(n.t, n, "e2e")
	nodeTokens.Store(strings.TrimPrefix(n.base, "http://"), tok)
	lastToken.Lock()
	lastToken.v = tok
	lastToken.Unlock()
}

// authTransport adds a node's admin token to writes (and to every tus
// request, whose HEAD reads an upload's offset) sent without credentials.
type authTransport struct{ next http.RoundTripper }

func (a authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" && r.Header.Get("Cookie") == "" &&
		(r.Method != http.MethodGet || strings.HasPrefix(r.URL.Path, "/api/v1/uploads/")) {
		if tok, ok := nodeTokens.Load(r.URL.Host); ok {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok.(string))
		}
	}
	return a.next.RoundTrip(r)
}

// baseTransport is net/http's own, taken before init wraps it.
var baseTransport = http.DefaultTransport

func init() {
	http.DefaultTransport = authTransport{next: baseTransport}
}
