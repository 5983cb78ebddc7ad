package edge

import (
	"testing"

	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/reqid"
)

// TestRequestIDCarriedToTheOrigin: a miss's fill asks the origin with the
// viewer's request ID (the client's, when valid, or the edge's own), and
// the viewer gets the same ID back; a hit gets an ID of its own, never
// the one the cached object was filled with.
func TestRequestIDCarriedToTheOrigin(t *testing.T) {
	o := newTestOrigin(t)
	o.put(segPath, segment(4<<10))
	const other = "/media/vid1/chunk-ab12-0-00050.m4s" // not one a prefetch would fetch
	o.put(other, segment(4<<10))
	e := newEdge(t, t.TempDir(), withOrigins(o.addr()))
	e.videos.set("vid1", model.Public)

	resp, _ := e.get(segPath, "X-Request-ID: viewer-7f3a")
	if got := resp.Header.Get(reqid.Header); got != "viewer-7f3a" {
		t.Fatalf("miss: the viewer got ID %q, want the one sent", got)
	}
	if hdr := o.lastFor(segPath); hdr.Get(reqid.Header) != "viewer-7f3a" {
		t.Fatalf("the origin got ID %q, want the viewer's", hdr.Get(reqid.Header))
	}

	resp, _ = e.get(segPath)
	if got := resp.Header.Get(reqid.Header); resp.Header.Get("X-Cache") != "HIT-MEM" || !reqid.Valid(got) || got == "viewer-7f3a" {
		t.Fatalf("hit (%s): ID %q, want a fresh one", resp.Header.Get("X-Cache"), got)
	}

	resp, _ = e.get(other, "X-Request-ID: not valid\"")
	got := resp.Header.Get(reqid.Header)
	if !reqid.Valid(got) {
		t.Fatalf("an invalid ID sent: the viewer got %q", got)
	}
	if hdr := o.lastFor(other); hdr.Get(reqid.Header) != got {
		t.Fatalf("the origin got ID %q, the viewer %q; want the same", hdr.Get(reqid.Header), got)
	}
}
