package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/mediatoken"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

// SetupPath is the UI page a setup link opens; the secret follows as
// ?token=.
const SetupPath = "/account/setup"

// Bootstrap makes what a cluster needs once: a media signing key, and on a
// fresh cluster the first admin, "admin", with a setup link that is
// logged. Both are conditional commands, so every node may run this at
// start and only one of them makes (and logs) the first admin.
func (s *Service) Bootstrap(ctx context.Context) error {
	if _, err := s.node.Apply(ctx, &command.RotateSigningKey{Stamp: s.stamp(), Key: mediatoken.NewKey(), OnlyIfNone: true}); err != nil {
		return fmt.Errorf("media signing key: %w", err)
	}
	if has, err := s.node.HasUsers(); err != nil || has {
		return err
	}
	u, link, err := s.CreateAdmin(ctx, "admin", true)
	if errors.Is(err, store.ErrExists) {
		return nil // another node made the first admin
	}
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	s.log.Warn("fresh node: open this one-time link on this node's address within a day to add the first admin's passkey",
		"user", u.Name, "link", link)
	return nil
}

// CreateAdmin makes an admin account and returns a one-time setup link
// (a path with the secret) for its first passkey. With firstOnly it
// succeeds only while no account exists.
func (s *Service) CreateAdmin(ctx context.Context, name string, firstOnly bool) (*model.User, string, error) {
	if !store.ValidName(name) {
		return nil, "", fmt.Errorf("name %q: 2 to 32 lower-case letters, digits, '.', '-' or '_': %w", name, store.ErrInvalid)
	}
	v, err := s.node.Apply(ctx, &command.CreateUser{Stamp: s.stamp(), FirstAdmin: firstOnly,
		User: model.User{ID: newID(), Name: name, Role: model.RoleAdmin}})
	if err != nil {
		return nil, "", err
	}
	u := v.(*model.User)
	link, err := s.NewSetupLink(ctx, u.ID)
	return u, link, err
}

// NewSetupLink makes a one-time passkey setup link for a user.
func (s *Service) NewSetupLink(ctx context.Context, userID string) (string, error) {
	secret := newSecret(32)
	now := s.cfg.Now().UTC()
	_, err := s.node.Apply(ctx, &command.CreateSetupLink{Stamp: command.Stamp{At: now},
		Link: model.SetupLink{ID: hashHex(secret), UserID: userID, ExpiresAt: now.Add(s.cfg.SetupTTL)}})
	if err != nil {
		return "", err
	}
	return SetupPath + "?token=" + secret, nil
}

// SignMedia returns a media token for videoID valid for ttl.
func (s *Service) SignMedia(videoID string, ttl time.Duration) (string, error) {
	tok, _, err := s.tokens.Sign(videoID, ttl)
	if errors.Is(err, mediatoken.ErrNoKey) {
		s.tokens.Forget() // the key may have been made since the ring was read
		tok, _, err = s.tokens.Sign(videoID, ttl)
	}
	return tok, err
}
