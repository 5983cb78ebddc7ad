// Package edge is the edge role of a Strata node: the Caddy HTTP handler
// strata_edge, which serves /media/ from a two-tier cache (ristretto in
// memory, a bounded disk tier) in front of origins, a parent edge, or the
// next handler of the route (the origin's media handler on an all-in-one
// node).
//
// The role (strata.roles.edge) owns the cache, which outlives config
// reloads, and keeps it true to the cluster log: a video deleted, made
// private or transcoded again is purged as its command is applied. The
// handler answers hits from memory without http.ServeContent, coalesces
// misses into one upstream fetch that every waiter reads as it arrives,
// serves ranges from cached or arriving bytes, revalidates manifests with
// their ETag, serves stale copies while every upstream fails, and
// prefetches the next segments of a rendition.
//
// The listener wrapper strata_edge_fast (fast.go) answers plain memory
// hits on the connection before Caddy's HTTP server sees them, with the
// handler's bytes, and hands every other request to it.
//
// It may import cluster/ (read-only views, purge events) and nothing else
// of Strata's.
package edge
