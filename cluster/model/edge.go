package model

import "time"

// Edge is an edge node's delivery entry: where viewers reach it and which
// of them it serves. It is replicated so every origin answers the same
// "which edge for this viewer" from its own replica; health and load are
// not (they change by the second), they come from the nodes' statuses.
type Edge struct {
	// ID is the edge's node ID, the same as its member entry's.
	ID string `json:"id"`
	// PublicURL is the edge's address for viewers (scheme and host, an
	// optional path prefix): media is at PublicURL + "/media/…".
	PublicURL string `json:"public_url"`
	// Region is a free-form name for people (the admin view, logs).
	Region string `json:"region,omitempty"`
	// Coverage are the client networks the edge serves, as canonical
	// CIDR blocks (Apache Traffic Control's coverage zones): the most
	// specific block containing a viewer's address wins.
	Coverage  []string  `json:"coverage,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}
