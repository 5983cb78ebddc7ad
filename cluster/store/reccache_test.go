package store

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

func (h *harness) retitle(id, title string) {
	h.t.Helper()
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.UpdateVideo(&command.UpdateVideo{Stamp: h.at(), ID: id, Title: &title})
	}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) title(id string) string {
	h.t.Helper()
	v, err := h.s.Video(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return v.Title
}

// TestVideoCacheFollowsCommits: reads after a write, a delete, a failed
// transaction and a restore show what bbolt holds, and editing a video
// that was read never edits what the next read gets.
func TestVideoCacheFollowsCommits(t *testing.T) {
	h := newHarness(t)
	h.setup("v1", "j1", 1)
	before := h.s.CacheStats()[0]
	if got := h.title("v1"); got != "v1" {
		t.Fatalf("title %q", got)
	}
	if got := h.s.CacheStats()[0]; got.Kind != "video" || got.Hits != before.Hits+1 || got.Misses != before.Misses {
		// CreateVideo's commit left v1 in the cache.
		t.Fatalf("cache stats %+v after %+v: want one hit", got, before)
	}
	h.s.cache.videos.reset()
	h.title("v1")
	if got := h.s.CacheStats()[0]; got.Misses != before.Misses+1 {
		t.Fatalf("cache stats %+v after %+v: want one miss", got, before)
	}
	h.retitle("v1", "second")
	if got := h.title("v1"); got != "second" {
		t.Fatalf("after an update: %q", got)
	}

	v, _ := h.s.Video("v1")
	v.Title, v.Tags = "edited by a caller", append(v.Tags, "x")
	if got, _ := h.s.Video("v1"); got.Title != "second" || len(got.Tags) != 0 {
		t.Fatalf("a caller's edit reached the cache: %+v", got)
	}
	vs, err := h.s.Videos([]string{"gone", "v1"})
	if err != nil || len(vs) != 1 || vs[0].Title != "second" {
		t.Fatalf("Videos = %v, %v", vs, err)
	}

	// A restore replaces what the cache held.
	sn, err := h.s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	if _, err := sn.WriteTo(&img); err != nil {
		t.Fatal(err)
	}
	sn.Release()
	h.retitle("v1", "third")
	if got := h.title("v1"); got != "third" {
		t.Fatalf("after the second update: %q", got)
	}
	if err := h.s.Restore(&img); err != nil {
		t.Fatal(err)
	}
	if got := h.title("v1"); got != "second" {
		t.Fatalf("after a restore: %q", got)
	}

	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.DeleteVideo(&command.DeleteVideo{Stamp: h.at(), ID: "v1"})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Video("v1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after a delete: %v", err)
	}
}

// TestRecordCacheRefusesAReadOlderThanACommit: a reader that decoded a
// record from bbolt before a write was applied does not put that value in
// the cache after it, and a pinned write is what readers see.
func TestRecordCacheRefusesAReadOlderThanACommit(t *testing.T) {
	c := newCaches().videos
	old := &model.Video{ID: "v", Title: "old"}
	_, _, gen := c.get("v")
	// A batch of the held transaction writes v while the reader decodes.
	c.pin(map[string]*model.Video{"v": {ID: "v", Title: "new"}})
	c.fill("v", old, gen)
	if v, _, _ := c.get("v"); v == nil || v.Title != "new" {
		t.Fatalf("cache holds %+v, want the applied title", v)
	}
	// A read of bbolt while v is pinned saw the last commit's value.
	_, _, gen = c.get("v")
	c.fill("v", old, gen)
	if v, _, _ := c.get("v"); v == nil || v.Title != "new" {
		t.Fatalf("cache holds %+v while pinned, want the applied title", v)
	}
	c.settle(true)
	c.fill("v", old, gen)
	if v, _, _ := c.get("v"); v == nil || v.Title != "new" {
		t.Fatalf("cache holds %+v after the commit, want the committed title", v)
	}
	// A deletion is pinned as gone, and forgotten by a rollback.
	c.pin(map[string]*model.Video{"v": nil})
	if v, gone, _ := c.get("v"); v != nil || !gone {
		t.Fatalf("deleted and pinned: %+v, gone %v", v, gone)
	}
	c.settle(false)
	if v, gone, _ := c.get("v"); v != nil || gone {
		t.Fatalf("after a rollback: %+v, gone %v; want a miss", v, gone)
	}
}

// TestVideoCacheMonotonicUnderLoad: while one writer retitles a video with
// a rising counter, readers never see the counter go back, and a read
// that starts after an update returned sees at least that update.
func TestVideoCacheMonotonicUnderLoad(t *testing.T) {
	h := newHarness(t)
	h.setup("v1", "j1", 1)
	h.retitle("v1", "0")
	const writes = 2000
	var acked atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := int64(-1)
			for {
				select {
				case <-stop:
					return
				default:
				}
				floor := acked.Load()
				v, err := h.s.Video("v1")
				if err != nil {
					errs <- err
					return
				}
				n, _ := strconv.ParseInt(v.Title, 10, 64)
				if n < last || n < floor {
					errs <- fmt.Errorf("read %d after reading %d, with %d acknowledged", n, last, floor)
					return
				}
				last = n
			}
		}()
	}
	for i := int64(1); i <= writes; i++ {
		h.retitle("v1", strconv.FormatInt(i, 10))
		acked.Store(i)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := h.title("v1"); got != strconv.Itoa(writes) {
		t.Fatalf("final title %q", got)
	}
}

// TestFailedUpdateStopsTheStore: a transaction that fails after writing
// loses what the held transaction applied, so the store refuses more
// writes and reads (the FSM stops the node); reopened, the file holds the
// last commit and its applied index, from which Raft replays the rest.
func TestFailedUpdateStopsTheStore(t *testing.T) {
	h := newHarness(t)
	h.setup("v1", "j1", 1)
	h.retitle("v1", "second")
	if err := h.s.Sync(); err != nil {
		t.Fatal(err)
	}
	committed := h.applied
	h.retitle("v1", "third") // held, not committed
	if got := h.title("v1"); got != "third" {
		t.Fatalf("held write reads %q", got)
	}
	h.applied++
	boom := errors.New("boom")
	_, err := h.s.Update(h.applied, func(tx *Tx) error {
		title := "never committed"
		if _, err := tx.UpdateVideo(&command.UpdateVideo{Stamp: h.at(), ID: "v1", Title: &title}); err != nil {
			return err
		}
		if got, _ := tx.video("v1"); got.Title != title {
			t.Errorf("the transaction reads %q, not its own write", got.Title)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update: %v", err)
	}
	if _, err := h.s.Update(h.applied+1, func(*Tx) error { return nil }); err == nil {
		t.Fatal("an update after a failed one was taken")
	}
	if _, err := h.s.Jobs(nil); err == nil {
		t.Fatal("a read of bbolt after a failed update was served")
	}
	path := h.s.path
	if err := h.s.Close(); err == nil {
		t.Fatal("Close after a failed update reported nothing")
	}
	s, err := Open(path, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Video("v1"); err != nil || v.Title != "second" {
		t.Fatalf("reopened: %+v, %v; want the committed title", v, err)
	}
	if n, err := s.Applied(); err != nil || n != committed {
		t.Fatalf("reopened: applied %d, %v; want %d", n, err, committed)
	}
}

// TestVideoCacheBounded: the cache keeps at most cacheSize videos, and a
// video it dropped is read from bbolt again.
func TestVideoCacheBounded(t *testing.T) {
	h := newHarness(t)
	n := cacheSize + 50
	if _, err := h.do(func(tx *Tx) (any, error) {
		for i := range n {
			id := "v" + strconv.Itoa(i)
			if _, err := tx.CreateVideo(&command.CreateVideo{Stamp: h.at(), Video: model.Video{ID: id, Title: id}}); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := "v" + strconv.Itoa(i)
		if got := h.title(id); got != id {
			t.Fatalf("%s has title %q", id, got)
		}
	}
	if err := h.s.Sync(); err != nil { // commits: pinned records become ordinary
		t.Fatal(err)
	}
	h.s.cache.videos.mu.Lock()
	got := len(h.s.cache.videos.m) + len(h.s.cache.videos.pinned)
	h.s.cache.videos.mu.Unlock()
	if got > cacheSize {
		t.Fatalf("cache holds %d videos", got)
	}
}

// TestAccountCachesFollowCommits: the user and token a request is
// authenticated with are as the last commit left them: a disabled user,
// a revoked token, a recorded use and an upload's storage show at once.
func TestAccountCachesFollowCommits(t *testing.T) {
	h := newHarness(t)
	u := h.mustUser("u1", "alice")
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.CreateToken(&command.CreateToken{Stamp: h.at(), Token: model.APIToken{
			ID: "k1", UserID: u.ID, Name: "ci", Scopes: []model.Scope{model.ScopeUpload}, Hash: "h1"}})
	}); err != nil {
		t.Fatal(err)
	}
	k, err := h.s.TokenByHash("h1")
	if err != nil || k.ID != "k1" || !k.LastUsedAt.IsZero() {
		t.Fatalf("token = %+v, %v", k, err)
	}
	k.Scopes[0] = model.ScopeAdmin // a caller's edit
	if k, _ := h.s.TokenByHash("h1"); k.Scopes[0] != model.ScopeUpload {
		t.Fatalf("a caller's edit reached the cache: %v", k.Scopes)
	}

	used := h.now.Add(time.Hour)
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.TouchToken(&command.TouchToken{Stamp: command.Stamp{At: used}, ID: "k1"})
	}); err != nil {
		t.Fatal(err)
	}
	if k, _ := h.s.TokenByHash("h1"); !k.LastUsedAt.Equal(used) {
		t.Fatalf("last use %v, want %v", k.LastUsedAt, used)
	}

	if got, _ := h.s.User(u.ID); got.Disabled || got.StorageUsed != 0 {
		t.Fatalf("user = %+v", got)
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.CreateVideo(&command.CreateVideo{Stamp: h.at(), Video: model.Video{ID: "v1", Title: "v1", Owner: u.ID, SizeBytes: 1000}})
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.s.User(u.ID); got.StorageUsed != 1000 {
		t.Fatalf("storage used %d after an upload", got.StorageUsed)
	}
	off := true
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.UpdateUser(&command.UpdateUser{Stamp: h.at(), ID: u.ID, Disabled: &off})
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.s.User(u.ID); !got.Disabled {
		t.Fatal("a disabled user reads as enabled")
	}

	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.DeleteToken(&command.DeleteToken{Stamp: h.at(), ID: "k1", UserID: u.ID})
	}); err != nil {
		t.Fatal(err)
	}
	if k, err := h.s.TokenByHash("h1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a revoked token still reads: %+v, %v", k, err)
	}
}

// TestHeldRewritesReachTheFile: a video rewritten in the held transaction
// (its bytes written only at the commit) reads back through a list, a
// snapshot and a reopened file, and a deletion after a rewrite wins.
func TestHeldRewritesReachTheFile(t *testing.T) {
	h := newHarness(t)
	h.setup("v1", "j1", 1)
	h.setup("v2", "j2", 1)
	if err := h.s.Sync(); err != nil {
		t.Fatal(err)
	}
	h.retitle("v1", "second")
	h.retitle("v1", "third")
	h.retitle("v2", "doomed")
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.DeleteVideo(&command.DeleteVideo{Stamp: h.at(), ID: "v2"})
	}); err != nil {
		t.Fatal(err)
	}
	list, _, err := h.s.ListVideos("", 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Title != "third" {
		t.Fatalf("list after held rewrites: %+v", list)
	}
	h.retitle("v1", "fourth")
	sn, err := h.s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	_, err = sn.WriteTo(&img)
	sn.Release()
	if err != nil {
		t.Fatal(err)
	}
	h.retitle("v1", "fifth")
	path := h.s.path
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Video("v1"); err != nil || v.Title != "fifth" {
		t.Fatalf("reopened: %+v, %v", v, err)
	}
	if _, err := s.Video("v2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted video after a reopen: %v", err)
	}
	if n, _ := s.Applied(); n != h.applied {
		t.Fatalf("applied %d, want %d", n, h.applied)
	}
	if err := s.Restore(&img); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Video("v1"); err != nil || v.Title != "fourth" {
		t.Fatalf("from the snapshot: %+v, %v", v, err)
	}
}
