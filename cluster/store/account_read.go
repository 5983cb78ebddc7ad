package store

import (
	"bytes"
	"fmt"
	"sort"

	json "github.com/go-json-experiment/json/v1"

	"go.etcd.io/bbolt"

	"github.com/stratavideo/strata/cluster/model"
)

// User returns an account by ID.
func (s *Store) User(id string) (*model.User, error) {
	u, gone, gen := s.cache.users.get(id)
	switch {
	case u != nil:
		return u, nil
	case gone:
		return nil, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	u, err := readOne[model.User](s, bucketUsers, id, "user")
	if err != nil {
		return nil, err
	}
	s.cache.users.fill(id, u, gen)
	return u, nil
}

// UserByName returns an account by its handle.
func (s *Store) UserByName(name string) (*model.User, error) {
	var u *model.User
	err := s.view(func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketUsersName).Get([]byte(name))
		if id == nil {
			return fmt.Errorf("user %q: %w", name, ErrNotFound)
		}
		u = new(model.User)
		ok, err := getJSON(tx.Bucket(bucketUsers), string(id), u)
		if err == nil && !ok {
			err = fmt.Errorf("user %q: %w", name, ErrNotFound)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Users lists every account, by name.
func (s *Store) Users() ([]*model.User, error) {
	out, err := readAll[model.User](s, bucketUsers, nil)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// HasUsers reports whether any account exists.
func (s *Store) HasUsers() (bool, error) {
	var has bool
	err := s.view(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketUsers).Cursor().First()
		has = k != nil
		return nil
	})
	return has, err
}

// Passkey returns a credential by its ID (base64url).
func (s *Store) Passkey(id string) (*model.Passkey, error) {
	return readOne[model.Passkey](s, bucketPasskeys, id, "passkey")
}

// Passkeys lists a user's credentials, oldest first.
func (s *Store) Passkeys(userID string) ([]*model.Passkey, error) {
	out, err := readAll(s, bucketPasskeys, func(p *model.Passkey) bool { return p.UserID == userID })
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, err
}

// Session returns a session by ID; callers check its expiry against their
// clock.
func (s *Store) Session(id string) (*model.Session, error) {
	return readOne[model.Session](s, bucketSessions, id, "session")
}

// Sessions lists a user's sessions, newest first.
func (s *Store) Sessions(userID string) ([]*model.Session, error) {
	out, err := readAll(s, bucketSessions, func(x *model.Session) bool { return x.UserID == userID })
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, err
}

// TokenByHash returns the API token whose secret hashes to hash.
func (s *Store) TokenByHash(hash string) (*model.APIToken, error) {
	k, gone, gen := s.cache.tokens.get(hash)
	switch {
	case k != nil:
		return k, nil
	case gone:
		return nil, fmt.Errorf("token: %w", ErrNotFound)
	}
	err := s.view(func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketTokensHash).Get([]byte(hash))
		if id == nil {
			return fmt.Errorf("token: %w", ErrNotFound)
		}
		k = new(model.APIToken)
		ok, err := getJSON(tx.Bucket(bucketTokens), string(id), k)
		if err == nil && !ok {
			err = fmt.Errorf("token: %w", ErrNotFound)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cache.tokens.fill(hash, k, gen)
	return k, nil
}

// Tokens lists a user's API tokens, newest first.
func (s *Store) Tokens(userID string) ([]*model.APIToken, error) {
	out, err := readAll(s, bucketTokens, func(k *model.APIToken) bool { return k.UserID == userID })
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, err
}

// Challenge returns a ceremony in progress (used or not).
func (s *Store) Challenge(id string) (*model.Challenge, error) {
	return readOne[model.Challenge](s, bucketChallenges, id, "challenge")
}

// SetupLink returns a setup link by ID.
func (s *Store) SetupLink(id string) (*model.SetupLink, error) {
	return readOne[model.SetupLink](s, bucketSetupLinks, id, "setup link")
}

// SigningKeys returns the media signing key ring (empty before the first
// key is made).
func (s *Store) SigningKeys() (*model.SigningKeys, error) {
	var ring *model.SigningKeys
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		ring, err = readRing(tx)
		return err
	})
	return ring, err
}

// VideosOf lists a user's videos, newest first, at most limit of them.
func (s *Store) VideosOf(owner string, limit int) ([]*model.Video, error) {
	var out []*model.Video
	err := s.view(func(tx *bbolt.Tx) error {
		prefix := []byte(owner + "\x00")
		videos := tx.Bucket(bucketVideos)
		cur := tx.Bucket(bucketVideosOwner).Cursor()
		// Seek past the owner's last key, then walk back.
		k, _ := cur.Seek(append(append([]byte(nil), prefix[:len(prefix)-1]...), 1))
		if k == nil {
			k, _ = cur.Last()
		} else {
			k, _ = cur.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = cur.Prev() {
			id := string(k[len(prefix)+8:])
			var v model.Video
			ok, err := getJSON(videos, id, &v)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, &v)
			}
		}
		return nil
	})
	return out, err
}

func readOne[T any](s *Store, bucket []byte, id, what string) (*T, error) {
	v := new(T)
	err := s.view(func(tx *bbolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucket), id, v)
		if err == nil && !ok {
			err = fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func readAll[T any](s *Store, bucket []byte, keep func(*T) bool) ([]*T, error) {
	var out []*T
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, raw []byte) error {
			v := new(T)
			if err := json.Unmarshal(raw, v); err != nil {
				return fmt.Errorf("decode %s/%s: %w", bucket, k, err)
			}
			if keep == nil || keep(v) {
				out = append(out, v)
			}
			return nil
		})
	})
	return out, err
}
