package store

import (
	"fmt"
	"regexp"
	"time"

	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// Every Tx method here checks all of its rules before it writes anything:
// the FSM keeps a batch's transaction when a command is refused, so a
// refused command must leave no trace.

// nameRule is a handle: lower-case letters, digits, '-', '_' and '.', 2 to
// 32 long, starting with a letter or digit, so it is safe in a URL and
// cannot pose as another by case.
var nameRule = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// ValidName reports whether name may be an account's handle.
func ValidName(name string) bool { return nameRule.MatchString(name) }

func (t *Tx) user(id string) (*model.User, error) {
	return txRead(t, t.cache.users, t.w.users, bucketUsers, id, "user")
}

// putUser writes u, and keeps a copy for the store's cache.
func (t *Tx) putUser(u *model.User) error {
	if err := putJSON(t.tx.Bucket(bucketUsers), u.ID, u); err != nil {
		return err
	}
	t.w.users[u.ID] = t.cache.users.clone(u)
	return nil
}

// putToken writes k, and keeps a copy for the store's cache (keyed by
// the hash requests present).
func (t *Tx) putToken(k *model.APIToken) error {
	if err := putJSON(t.tx.Bucket(bucketTokens), k.ID, k); err != nil {
		return err
	}
	t.w.tokens[k.Hash] = t.cache.tokens.clone(k)
	return nil
}

// CreateUser adds an account with a free, valid name.
func (t *Tx) CreateUser(c *command.CreateUser) (*model.User, error) {
	u := c.User
	switch {
	case u.ID == "":
		return nil, fmt.Errorf("user without id: %w", ErrInvalid)
	case !ValidName(u.Name):
		return nil, fmt.Errorf("name %q: 2 to 32 lower-case letters, digits, '.', '-' or '_': %w", u.Name, ErrInvalid)
	case u.Role == "":
		u.Role = model.RoleUser
	}
	if !u.Role.Valid() {
		return nil, fmt.Errorf("role %q: %w", u.Role, ErrInvalid)
	}
	if c.FirstAdmin {
		if k, _ := t.tx.Bucket(bucketUsers).Cursor().First(); k != nil {
			return nil, fmt.Errorf("the first admin exists already: %w", ErrExists)
		}
	}
	if t.tx.Bucket(bucketUsers).Get([]byte(u.ID)) != nil {
		return nil, fmt.Errorf("user %q: %w", u.ID, ErrExists)
	}
	if t.tx.Bucket(bucketUsersName).Get([]byte(u.Name)) != nil {
		return nil, fmt.Errorf("the name %q is taken: %w", u.Name, ErrExists)
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Name
	}
	u.StorageUsed, u.UploadDay, u.UploadedToday = 0, "", 0
	u.CreatedAt, u.UpdatedAt = c.At, c.At
	if err := t.tx.Bucket(bucketUsersName).Put([]byte(u.Name), []byte(u.ID)); err != nil {
		return nil, err
	}
	return &u, t.putUser(&u)
}

// UpdateUser changes the fields c sets.
func (t *Tx) UpdateUser(c *command.UpdateUser) (*model.User, error) {
	u, err := t.user(c.ID)
	if err != nil {
		return nil, err
	}
	if c.Role != nil && !c.Role.Valid() {
		return nil, fmt.Errorf("role %q: %w", *c.Role, ErrInvalid)
	}
	if c.StorageQuota != nil && *c.StorageQuota < 0 || c.DailyUploadQuota != nil && *c.DailyUploadQuota < 0 {
		return nil, fmt.Errorf("a quota must not be negative: %w", ErrInvalid)
	}
	if c.DisplayName != nil {
		u.DisplayName = *c.DisplayName
	}
	if c.Role != nil {
		u.Role = *c.Role
	}
	if c.Disabled != nil {
		u.Disabled = *c.Disabled
	}
	if c.StorageQuota != nil {
		u.StorageQuota = *c.StorageQuota
	}
	if c.DailyUploadQuota != nil {
		u.DailyUploadQuota = *c.DailyUploadQuota
	}
	if c.PasswordHash != nil {
		u.PasswordHash = *c.PasswordHash
	}
	u.UpdatedAt = c.At
	return u, t.putUser(u)
}

// AddPasskey records a new credential of an existing user. A credential ID
// is globally unique: registering one twice is refused.
func (t *Tx) AddPasskey(c *command.AddPasskey) (*model.Passkey, error) {
	p := c.Passkey
	if p.ID == "" || len(p.PublicKey) == 0 {
		return nil, fmt.Errorf("passkey without id or key: %w", ErrInvalid)
	}
	if _, err := t.user(p.UserID); err != nil {
		return nil, err
	}
	if t.tx.Bucket(bucketPasskeys).Get([]byte(p.ID)) != nil {
		return nil, fmt.Errorf("passkey %q: %w", p.ID, ErrExists)
	}
	p.CreatedAt = c.At
	p.Cloned = false
	return &p, putJSON(t.tx.Bucket(bucketPasskeys), p.ID, &p)
}

// UsePasskey records an assertion, or flags the passkey as cloned when its
// counter did not move forward. A flagged passkey is returned, not an
// error: the flag must be committed, and a refused command writes nothing.
func (t *Tx) UsePasskey(c *command.UsePasskey) (*model.Passkey, error) {
	var p model.Passkey
	ok, err := getJSON(t.tx.Bucket(bucketPasskeys), c.ID, &p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("passkey %q: %w", c.ID, ErrNotFound)
	}
	switch {
	case p.Cloned:
	case c.SignCount <= p.SignCount && (c.SignCount != 0 || p.SignCount != 0):
		p.Cloned = true
	default:
		p.SignCount = c.SignCount
		p.BackupState = c.BackupState
		p.LastUsedAt = c.At
	}
	return &p, putJSON(t.tx.Bucket(bucketPasskeys), p.ID, &p)
}

// DeletePasskey removes a passkey of c.UserID.
func (t *Tx) DeletePasskey(c *command.DeletePasskey) (*model.Passkey, error) {
	var p model.Passkey
	ok, err := getJSON(t.tx.Bucket(bucketPasskeys), c.ID, &p)
	if err != nil {
		return nil, err
	}
	if !ok || p.UserID != c.UserID {
		return nil, fmt.Errorf("passkey %q: %w", c.ID, ErrNotFound)
	}
	return &p, t.tx.Bucket(bucketPasskeys).Delete([]byte(c.ID))
}

// CreateSession records a login and sweeps sessions that have expired.
func (t *Tx) CreateSession(c *command.CreateSession) (*model.Session, error) {
	s := c.Session
	if s.ID == "" || s.CSRFHash == "" || !s.ExpiresAt.After(c.At) {
		return nil, fmt.Errorf("session without id, csrf hash or future expiry: %w", ErrInvalid)
	}
	if _, err := t.user(s.UserID); err != nil {
		return nil, err
	}
	if t.tx.Bucket(bucketSessions).Get([]byte(s.ID)) != nil {
		return nil, fmt.Errorf("session: %w", ErrExists)
	}
	if err := sweep(t.tx.Bucket(bucketSessions), c.At, func(s *model.Session) time.Time { return s.ExpiresAt }); err != nil {
		return nil, err
	}
	s.CreatedAt = c.At
	return &s, putJSON(t.tx.Bucket(bucketSessions), s.ID, &s)
}

// DeleteSession ends a session; with c.UserID, only one of that user's.
func (t *Tx) DeleteSession(c *command.DeleteSession) (*model.Session, error) {
	var s model.Session
	ok, err := getJSON(t.tx.Bucket(bucketSessions), c.ID, &s)
	if err != nil {
		return nil, err
	}
	if !ok || c.UserID != "" && s.UserID != c.UserID {
		return nil, fmt.Errorf("session: %w", ErrNotFound)
	}
	return &s, t.tx.Bucket(bucketSessions).Delete([]byte(c.ID))
}

// CreateToken records an API token with valid scopes.
func (t *Tx) CreateToken(c *command.CreateToken) (*model.APIToken, error) {
	k := c.Token
	if k.ID == "" || k.Hash == "" || len(k.Scopes) == 0 {
		return nil, fmt.Errorf("token without id, hash or scopes: %w", ErrInvalid)
	}
	for _, s := range k.Scopes {
		if !s.Valid() {
			return nil, fmt.Errorf("scope %q: %w", s, ErrInvalid)
		}
	}
	if _, err := t.user(k.UserID); err != nil {
		return nil, err
	}
	if t.tx.Bucket(bucketTokens).Get([]byte(k.ID)) != nil || t.tx.Bucket(bucketTokensHash).Get([]byte(k.Hash)) != nil {
		return nil, fmt.Errorf("token: %w", ErrExists)
	}
	k.CreatedAt = c.At
	k.LastUsedAt = time.Time{}
	if err := t.tx.Bucket(bucketTokensHash).Put([]byte(k.Hash), []byte(k.ID)); err != nil {
		return nil, err
	}
	return &k, t.putToken(&k)
}

// DeleteToken revokes a token of c.UserID.
func (t *Tx) DeleteToken(c *command.DeleteToken) (*model.APIToken, error) {
	var k model.APIToken
	ok, err := getJSON(t.tx.Bucket(bucketTokens), c.ID, &k)
	if err != nil {
		return nil, err
	}
	if !ok || k.UserID != c.UserID {
		return nil, fmt.Errorf("token %q: %w", c.ID, ErrNotFound)
	}
	if err := t.tx.Bucket(bucketTokensHash).Delete([]byte(k.Hash)); err != nil {
		return nil, err
	}
	t.w.tokens[k.Hash] = nil
	return &k, t.tx.Bucket(bucketTokens).Delete([]byte(c.ID))
}

// TouchToken records a token's last use.
func (t *Tx) TouchToken(c *command.TouchToken) (*model.APIToken, error) {
	var k model.APIToken
	ok, err := getJSON(t.tx.Bucket(bucketTokens), c.ID, &k)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("token %q: %w", c.ID, ErrNotFound)
	}
	if c.At.After(k.LastUsedAt) {
		k.LastUsedAt = c.At
	}
	return &k, t.putToken(&k)
}

// PutChallenge stores a ceremony in progress, living ChallengeLifetime from
// Stamp.At, and sweeps the expired ones.
func (t *Tx) PutChallenge(c *command.PutChallenge) (*model.Challenge, error) {
	ch := c.Challenge
	if ch.ID == "" || len(ch.Session) == 0 || ch.Kind != model.ChallengeRegister && ch.Kind != model.ChallengeLogin {
		return nil, fmt.Errorf("challenge without id, session or kind: %w", ErrInvalid)
	}
	if t.tx.Bucket(bucketChallenges).Get([]byte(ch.ID)) != nil {
		return nil, fmt.Errorf("challenge: %w", ErrExists)
	}
	if err := sweep(t.tx.Bucket(bucketChallenges), c.At, func(ch *model.Challenge) time.Time { return ch.ExpiresAt }); err != nil {
		return nil, err
	}
	ch.CreatedAt = c.At
	ch.ExpiresAt = c.At.Add(model.ChallengeLifetime)
	ch.UsedAt = time.Time{}
	return &ch, putJSON(t.tx.Bucket(bucketChallenges), ch.ID, &ch)
}

// ConsumeChallenge takes a challenge once, before it expires. A used
// challenge stays (marked) until swept, so a replay is told it was used.
func (t *Tx) ConsumeChallenge(c *command.ConsumeChallenge) (*model.Challenge, error) {
	var ch model.Challenge
	ok, err := getJSON(t.tx.Bucket(bucketChallenges), c.ID, &ch)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, fmt.Errorf("challenge: %w", ErrNotFound)
	case !ch.UsedAt.IsZero():
		return nil, fmt.Errorf("challenge: %w", ErrUsed)
	case !c.At.Before(ch.ExpiresAt):
		return nil, fmt.Errorf("challenge: %w", ErrExpired)
	case c.Kind != ch.Kind:
		return nil, fmt.Errorf("challenge of kind %s, not %s: %w", ch.Kind, c.Kind, ErrInvalid)
	}
	ch.UsedAt = c.At
	return &ch, putJSON(t.tx.Bucket(bucketChallenges), ch.ID, &ch)
}

// RotateSigningKey makes c.Key current, keeping the older keys.
func (t *Tx) RotateSigningKey(c *command.RotateSigningKey) (*model.SigningKeys, error) {
	ring, err := readRing(t.tx)
	if err != nil {
		return nil, err
	}
	if c.OnlyIfNone && ring.Current != "" {
		return ring, nil
	}
	if c.Key.ID == "" || len(c.Key.Secret) < 32 {
		return nil, fmt.Errorf("signing key without id or with fewer than 32 bytes: %w", ErrInvalid)
	}
	if ring.Key(c.Key.ID) != nil {
		return nil, fmt.Errorf("signing key %q: %w", c.Key.ID, ErrExists)
	}
	k := c.Key
	k.CreatedAt = c.At
	ring.Keys = append(ring.Keys, k)
	ring.Current = k.ID
	return ring, putJSON(t.tx.Bucket(bucketSigningKeys), ringKey, ring)
}

// RemoveSigningKey drops a key that is not current: the tokens it signed
// stop verifying.
func (t *Tx) RemoveSigningKey(c *command.RemoveSigningKey) (*model.SigningKeys, error) {
	ring, err := readRing(t.tx)
	if err != nil {
		return nil, err
	}
	if ring.Key(c.ID) == nil {
		return nil, fmt.Errorf("signing key %q: %w", c.ID, ErrNotFound)
	}
	if ring.Current == c.ID {
		return nil, fmt.Errorf("signing key %q is current; rotate first: %w", c.ID, ErrInvalid)
	}
	keep := ring.Keys[:0]
	for _, k := range ring.Keys {
		if k.ID != c.ID {
			keep = append(keep, k)
		}
	}
	ring.Keys = keep
	return ring, putJSON(t.tx.Bucket(bucketSigningKeys), ringKey, ring)
}

// CreateSetupLink records a one-time setup link for an existing user.
func (t *Tx) CreateSetupLink(c *command.CreateSetupLink) (*model.SetupLink, error) {
	l := c.Link
	if l.ID == "" || !l.ExpiresAt.After(c.At) {
		return nil, fmt.Errorf("setup link without id or future expiry: %w", ErrInvalid)
	}
	if _, err := t.user(l.UserID); err != nil {
		return nil, err
	}
	if t.tx.Bucket(bucketSetupLinks).Get([]byte(l.ID)) != nil {
		return nil, fmt.Errorf("setup link: %w", ErrExists)
	}
	l.CreatedAt = c.At
	l.UsedAt = time.Time{}
	return &l, putJSON(t.tx.Bucket(bucketSetupLinks), l.ID, &l)
}

// ConsumeSetupLink redeems a link once, before it expires.
func (t *Tx) ConsumeSetupLink(c *command.ConsumeSetupLink) (*model.SetupLink, error) {
	var l model.SetupLink
	ok, err := getJSON(t.tx.Bucket(bucketSetupLinks), c.ID, &l)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, fmt.Errorf("setup link: %w", ErrNotFound)
	case !l.UsedAt.IsZero():
		return nil, fmt.Errorf("setup link: %w", ErrUsed)
	case !c.At.Before(l.ExpiresAt):
		return nil, fmt.Errorf("setup link: %w", ErrExpired)
	}
	l.UsedAt = c.At
	return &l, putJSON(t.tx.Bucket(bucketSetupLinks), l.ID, &l)
}

const ringKey = "ring"

func readRing(tx *bbolt.Tx) (*model.SigningKeys, error) {
	var ring model.SigningKeys
	if _, err := getJSON(tx.Bucket(bucketSigningKeys), ringKey, &ring); err != nil {
		return nil, err
	}
	return &ring, nil
}

// sweep deletes the records of b whose expiry is at or before now.
func sweep[T any](b *bbolt.Bucket, now time.Time, expiry func(*T) time.Time) error {
	var gone [][]byte
	err := b.ForEach(func(k, raw []byte) error {
		var v T
		if _, err := getJSON(b, string(k), &v); err != nil {
			return err
		}
		if !now.Before(expiry(&v)) {
			gone = append(gone, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range gone {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ownerKey orders a user's videos by creation time.
func ownerKey(owner string, at time.Time, id string) []byte {
	return append([]byte(owner+"\x00"), timeKey(at, id)...)
}

// addOwned indexes a new video under its owner and counts its bytes
// against the owner's storage and day. Quotas are checked before the bytes
// are stored, by the API; here the bytes exist already and are counted.
func (t *Tx) addOwned(v *model.Video, at time.Time) error {
	if v.Owner == "" {
		return nil
	}
	if err := t.tx.Bucket(bucketVideosOwner).Put(ownerKey(v.Owner, v.CreatedAt, v.ID), nil); err != nil {
		return err
	}
	u, err := t.user(v.Owner)
	if err != nil {
		return nil // an owner unknown here (made elsewhere, or gone) owns no quota
	}
	day := at.UTC().Format(time.DateOnly)
	if u.UploadDay != day {
		u.UploadDay, u.UploadedToday = day, 0
	}
	u.UploadedToday += v.SizeBytes
	u.StorageUsed += v.SizeBytes
	return t.putUser(u)
}

// removeOwned undoes addOwned's index entry and storage use.
func (t *Tx) removeOwned(v *model.Video) error {
	if v.Owner == "" {
		return nil
	}
	if err := t.tx.Bucket(bucketVideosOwner).Delete(ownerKey(v.Owner, v.CreatedAt, v.ID)); err != nil {
		return err
	}
	u, err := t.user(v.Owner)
	if err != nil {
		return nil
	}
	u.StorageUsed = max(0, u.StorageUsed-v.SizeBytes)
	return t.putUser(u)
}
