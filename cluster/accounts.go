package cluster

import "github.com/stratavideo/strata/cluster/model"

// Account reads, local to the node like every read: any node can
// authenticate a request because every node holds the accounts.

// User returns an account by ID.
func (n *Node) User(id string) (*model.User, error) { return n.c().store.User(id) }

// UserByName returns an account by handle.
func (n *Node) UserByName(name string) (*model.User, error) { return n.c().store.UserByName(name) }

// Users lists every account.
func (n *Node) Users() ([]*model.User, error) { return n.c().store.Users() }

// HasUsers reports whether any account exists.
func (n *Node) HasUsers() (bool, error) { return n.c().store.HasUsers() }

// Passkey returns a credential by ID.
func (n *Node) Passkey(id string) (*model.Passkey, error) { return n.c().store.Passkey(id) }

// Passkeys lists a user's credentials.
func (n *Node) Passkeys(userID string) ([]*model.Passkey, error) {
	return n.c().store.Passkeys(userID)
}

// Session returns a session by ID.
func (n *Node) Session(id string) (*model.Session, error) { return n.c().store.Session(id) }

// Sessions lists a user's sessions.
func (n *Node) Sessions(userID string) ([]*model.Session, error) {
	return n.c().store.Sessions(userID)
}

// TokenByHash returns the API token with that secret hash.
func (n *Node) TokenByHash(hash string) (*model.APIToken, error) {
	return n.c().store.TokenByHash(hash)
}

// Tokens lists a user's API tokens.
func (n *Node) Tokens(userID string) ([]*model.APIToken, error) { return n.c().store.Tokens(userID) }

// SigningKeys returns the media signing key ring.
func (n *Node) SigningKeys() (*model.SigningKeys, error) { return n.c().store.SigningKeys() }

// VideosOf lists a user's videos, newest first.
func (n *Node) VideosOf(owner string, limit int) ([]*model.Video, error) {
	return n.c().store.VideosOf(owner, limit)
}

// SetupLink returns a setup link by ID.
func (n *Node) SetupLink(id string) (*model.SetupLink, error) { return n.c().store.SetupLink(id) }
