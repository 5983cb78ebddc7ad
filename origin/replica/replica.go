// Package replica keeps a video's blobs available when origins store them
// on their own disks: it records which origins hold a copy, copies the
// blobs to R origins, reads a blob from a holder when this origin has none,
// and deletes every copy when the video is deleted.
//
// With object storage (S3 and the like) every origin shares one bucket, so
// none of that is needed: Shared turns it off and every read is local.
package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"sync"
	"time"

	"gocloud.dev/blob"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/fsm"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/origin/blobstore"
)

// Cluster is what replication needs of the node.
type Cluster interface {
	ID() string
	Video(id string) (*model.Video, error)
	ListVideos(cursor string, limit int, keep func(*model.Video) bool) ([]*model.Video, string, error)
	Members() ([]*model.Member, error)
	PeerAddr(id string) string
	Apply(ctx context.Context, c command.Command) (any, error)
	RPCClient() *http.Client
	HandleRPC(pattern string, h http.Handler)
	Listen(fn func(fsm.Event)) (cancel func())
}

// ErrUnavailable says no origin this one can reach holds the blob now;
// unlike a missing key in a shared store, it may pass (a holder restarts).
var ErrUnavailable = errors.New("no reachable origin holds a copy")

// Config sets up a Set.
type Config struct {
	// Buckets are this origin's stores by kind (model.KindRaw, KindMedia).
	Buckets map[string]*blob.Bucket
	// Shared says the buckets are object storage every origin shares.
	Shared bool
	// Replicas is R, the copies kept of each blob once R origins exist.
	Replicas int
	// Every is how often the replicator looks for missing copies when
	// nothing wakes it.
	Every  time.Duration
	Logger *slog.Logger
}

// Set is one origin's view of the replicated blobs.
type Set struct {
	cfg     Config
	cluster Cluster
	log     *slog.Logger

	wake     chan struct{}
	stop     chan struct{}
	done     sync.WaitGroup
	unlisten func()
}

// New makes a Set; Start runs it.
func New(cfg Config, c Cluster) *Set {
	if cfg.Replicas <= 0 {
		cfg.Replicas = 2
	}
	if cfg.Every <= 0 {
		cfg.Every = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Set{cfg: cfg, cluster: c, log: cfg.Logger, wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

// Key is where a blob lives in its bucket: the raw upload, or a media file.
func Key(kind, videoID, file string) string {
	if kind == model.KindRaw {
		return videoID + "/source"
	}
	return videoID + "/" + file
}

// Start serves this origin's blobs to peers, starts the replicator and
// deletes local copies of deleted videos.
func (s *Set) Start() {
	s.cluster.HandleRPC("GET /rpc/origin/blob/{kind}/{key...}", http.HandlerFunc(s.serveBlob))
	s.unlisten = s.cluster.Listen(s.onEvent)
	if s.cfg.Shared {
		return
	}
	s.done.Add(1)
	go s.loop()
}

// Stop ends the background work.
func (s *Set) Stop() {
	if s.unlisten != nil {
		s.unlisten()
	}
	close(s.stop)
	s.done.Wait()
}

func (s *Set) onEvent(e fsm.Event) {
	switch c := e.Command.(type) {
	case *command.DeleteVideo:
		if v, ok := e.Value.(*model.Video); ok {
			// Off the apply path: deleting files can take a while.
			go s.deleteLocal(v)
		}
		_ = c
	case *command.CreateVideo, *command.VideoReady, *command.RecordReplica, *command.RemoveMember, *command.RegisterMember:
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// deleteLocal removes this origin's copies of a deleted video.
func (s *Set) deleteLocal(v *model.Video) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := blobstore.Delete(ctx, s.cfg.Buckets[model.KindRaw], Key(model.KindRaw, v.ID, "")); err != nil {
		s.log.Warn("delete raw copy", "video_id", v.ID, "error", err)
	}
	if err := blobstore.DeletePrefix(ctx, s.cfg.Buckets[model.KindMedia], v.ID+"/"); err != nil {
		s.log.Warn("delete media copy", "video_id", v.ID, "error", err)
	}
}

// Recorded tells the cluster this origin holds a copy of kind for videoID.
func (s *Set) Recorded(ctx context.Context, kind, videoID string) error {
	_, err := s.cluster.Apply(ctx, &command.RecordReplica{Stamp: command.Stamp{At: time.Now().UTC()},
		VideoID: videoID, Kind: kind, NodeID: s.cluster.ID()})
	return err
}

// Fetch copies a blob to the local file dst, from this origin's bucket or,
// failing that, from an origin that holds it.
func (s *Set) Fetch(ctx context.Context, kind, videoID, file, dst string) error {
	key := Key(kind, videoID, file)
	err := blobstore.GetFile(ctx, s.cfg.Buckets[kind], key, dst)
	if err == nil || !blobstore.IsNotFound(err) || s.cfg.Shared {
		return err
	}
	for _, peer := range s.holders(kind, videoID) {
		resp, err := s.peerGet(ctx, peer, kind, key, nil)
		if err != nil {
			s.log.Debug("fetch from holder", "holder", peer.ID, "key", key, "error", err)
			continue
		}
		err = writeFile(dst, resp.Body)
		resp.Body.Close()
		if err == nil {
			return nil
		}
		s.log.Debug("fetch from holder", "holder", peer.ID, "key", key, "error", err)
	}
	return fmt.Errorf("%s: %w", key, ErrUnavailable)
}

// FetchFrom copies key of kind's bucket from the named origin (from this
// one's own bucket when it is this origin or the storage is shared) to
// dst. Chunked transcoding uses it for work files, which only the origin
// that wrote them holds.
func (s *Set) FetchFrom(ctx context.Context, node, kind, key, dst string) error {
	if node == s.cluster.ID() || s.cfg.Shared {
		return blobstore.GetFile(ctx, s.cfg.Buckets[kind], key, dst)
	}
	addr := s.cluster.PeerAddr(node)
	if addr == "" {
		return fmt.Errorf("%s on %s: the origin is not in the cluster: %w", key, node, ErrUnavailable)
	}
	resp, err := s.peerGet(ctx, &model.Member{ID: node, ClusterAddr: addr}, kind, key, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	return writeFile(dst, resp.Body)
}

func writeFile(dst string, r io.Reader) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Proxy answers a media request from an origin that holds the file, for an
// origin that does not. It reports false when no holder answered.
func (s *Set) Proxy(w http.ResponseWriter, r *http.Request, kind, videoID, file string) bool {
	if s.cfg.Shared {
		return false
	}
	key := Key(kind, videoID, file)
	for _, peer := range s.holders(kind, videoID) {
		hdr := http.Header{}
		for _, h := range []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"} {
			if v := r.Header.Get(h); v != "" {
				hdr.Set(h, v)
			}
		}
		resp, err := s.peerGet(r.Context(), peer, kind, key, hdr)
		if err != nil {
			s.log.Debug("proxy from holder", "holder", peer.ID, "key", key, "error", err)
			continue
		}
		for _, h := range []string{"Content-Length", "Content-Range", "ETag", "Last-Modified", "Accept-Ranges"} {
			if v := resp.Header.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		w.WriteHeader(resp.StatusCode)
		if r.Method != http.MethodHead {
			_, _ = io.Copy(w, resp.Body)
		}
		resp.Body.Close()
		return true
	}
	return false
}

// holders are the origins other than this one that hold kind, with their
// cluster addresses (from Raft's configuration, which knows a node as soon
// as it joins).
func (s *Set) holders(kind, videoID string) []*model.Member {
	v, err := s.cluster.Video(videoID)
	if err != nil {
		return nil
	}
	var out []*model.Member
	for _, id := range v.Holders(kind) {
		if id == s.cluster.ID() {
			continue
		}
		if addr := s.cluster.PeerAddr(id); addr != "" {
			out = append(out, &model.Member{ID: id, ClusterAddr: addr})
		}
	}
	return out
}

// peerGet fetches a blob from a peer's cluster port. Any answer but 200,
// 206 or 304 is an error.
func (s *Set) peerGet(ctx context.Context, peer *model.Member, kind, key string, hdr http.Header) (*http.Response, error) {
	client := s.cluster.RPCClient()
	if client == nil {
		return nil, errors.New("no cluster port")
	}
	u := "http://" + peer.ClusterAddr + "/rpc/origin/blob/" + kind + "/" + (&url.URL{Path: key}).EscapedPath()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent, http.StatusNotModified:
		return resp, nil
	}
	resp.Body.Close()
	return nil, fmt.Errorf("%s from %s: %s", key, peer.ID, resp.Status)
}

// serveBlob is the RPC endpoint peers read blobs from.
func (s *Set) serveBlob(w http.ResponseWriter, r *http.Request) {
	kind, key := r.PathValue("kind"), r.PathValue("key")
	b := s.cfg.Buckets[kind]
	if b == nil || key == "" || path.Clean("/"+key) != "/"+key {
		http.Error(w, "no such blob", http.StatusNotFound)
		return
	}
	attrs, err := b.Attributes(r.Context(), key)
	if err != nil {
		http.Error(w, "no such blob", http.StatusNotFound)
		return
	}
	rd, err := b.NewReader(r.Context(), key, nil)
	if err != nil {
		http.Error(w, "no such blob", http.StatusNotFound)
		return
	}
	defer rd.Close()
	if attrs.ETag != "" {
		w.Header().Set("ETag", attrs.ETag)
	}
	http.ServeContent(w, r, path.Base(key), attrs.ModTime, rd)
}
