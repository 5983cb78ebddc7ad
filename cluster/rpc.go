package cluster

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/hashicorp/raft"

	"github.com/stratavideo/strata/cluster/jsonio"
)

// maxEntry bounds a forwarded log entry.
const maxEntry = 4 << 20

// newRPCMux is the cluster port's HTTP API. It answers only peers that
// passed the TLS handshake with the cluster's certificate.
func (n *Node) newRPCMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /rpc/apply", n.rpcApply)
	mux.HandleFunc("POST /rpc/barrier", n.rpcBarrier)
	mux.HandleFunc("POST /rpc/join", n.rpcJoin)
	mux.HandleFunc("POST /rpc/remove", n.rpcRemove)
	mux.HandleFunc("GET /rpc/status", n.rpcStatus)
	mux.HandleFunc("GET /rpc/logs", n.rpcLogs)
	return mux
}

// HandleRPC lets a role serve pattern on the cluster port (for example an
// origin streaming a blob to a peer). A later call for the same pattern
// replaces the handler: a reloaded config's role takes over from the old
// one. It does nothing on a single node.
func (n *Node) HandleRPC(pattern string, h http.Handler) {
	if n.rpcMux == nil {
		return
	}
	n.rpcRoutesMu.Lock()
	defer n.rpcRoutesMu.Unlock()
	if n.rpcRoutes == nil {
		n.rpcRoutes = map[string]*atomic.Pointer[http.Handler]{}
	}
	slot, ok := n.rpcRoutes[pattern]
	if !ok {
		slot = new(atomic.Pointer[http.Handler])
		n.rpcRoutes[pattern] = slot
		n.rpcMux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			(*slot.Load()).ServeHTTP(w, r)
		})
	}
	slot.Store(&h)
}

// RPCClient is the HTTP client whose requests to http://CLUSTER-ADDR/…
// travel over the cluster port; nil on a single node.
func (n *Node) RPCClient() *http.Client { return n.rpc }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonio.Write(w, v)
}

func (n *Node) rpcApply(w http.ResponseWriter, r *http.Request) {
	if n.c().raft.State() != raft.Leader {
		http.Error(w, "not the leader", http.StatusMisdirectedRequest)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxEntry+1))
	if err != nil || len(data) > maxEntry {
		http.Error(w, "entry unreadable or too large", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), n.cfg.ApplyTimeout)
	defer cancel()
	v, err, retry := n.applyLocal(ctx, data)
	if retry {
		http.Error(w, "not the leader", http.StatusMisdirectedRequest)
		return
	}
	// The entry is applied here, so the applied index covers it.
	resp := applyResponse{Index: n.c().raft.AppliedIndex()}
	resp.Error = encodeError(err)
	name, raw, encErr := encodeValue(v)
	if encErr != nil {
		resp.Error = &wireError{Kind: "internal", Message: encErr.Error()}
	}
	resp.Type, resp.Value = name, raw
	writeJSON(w, http.StatusOK, resp)
}

func (n *Node) rpcBarrier(w http.ResponseWriter, r *http.Request) {
	if n.c().raft.State() != raft.Leader {
		http.Error(w, "not the leader", http.StatusMisdirectedRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), n.cfg.ApplyTimeout)
	defer cancel()
	idx, err := n.barrier(ctx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"index": idx})
}

// joinRequest asks the leader to add a node to the Raft configuration.
type joinRequest struct {
	ID    string `json:"id"`
	Addr  string `json:"addr"`
	Voter bool   `json:"voter"`
}

func (n *Node) rpcJoin(w http.ResponseWriter, r *http.Request) {
	var req joinRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil || req.ID == "" || req.Addr == "" {
		http.Error(w, "join needs an id and an address", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := n.AddPeer(ctx, req.ID, req.Addr, req.Voter); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrNotLeader) {
			status = http.StatusServiceUnavailable
		}
		http.Error(w, err.Error(), status)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"leader": n.ID()})
}

func (n *Node) rpcRemove(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil || req.ID == "" {
		http.Error(w, "remove needs an id", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := n.RemovePeer(ctx, req.ID); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrNotLeader) {
			status = http.StatusServiceUnavailable
		}
		http.Error(w, err.Error(), status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (n *Node) rpcStatus(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st := n.localStatus(StatusOptions{Hash: q.Get("hash") != "", History: q.Get("history") != ""})
	writeJSON(w, http.StatusOK, st)
}

// postJSON sends a JSON request to a peer's cluster port.
func (n *Node) postJSON(ctx context.Context, addr, path string, body any) (*http.Response, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, strings.NewReader(string(raw)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return n.rpc.Do(req)
}
