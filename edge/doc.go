// Package edge will hold the edge role of a Strata node: the Caddy HTTP
// handler strata_edge that serves /media/ from a tiered cache (ristretto in
// memory, a bounded disk tier) in front of origins or a parent edge, with
// ranges, request coalescing, signed-URL checks and purges driven by the
// cluster log. Until it exists, origins serve /media/ themselves.
//
// It may import cluster/ (read-only views, purge events) and nothing else
// of Strata's.
package edge
