// Package mediatoken signs and verifies the tokens that open a private
// video's media: an HMAC-SHA256 over the video ID and an expiry, with a key
// from the replicated key ring, so that every origin and edge can check a
// token another node signed.
//
// A token is "KEYID.EXPIRY.MAC": the signing key's ID, the expiry in Unix
// seconds (base 36), and the MAC in unpadded base64url. Every part is
// URL-safe, so a token travels as ?token= without escaping. It names the
// key, so a rotated ring still verifies the tokens signed with an older
// key until that key is removed.
//
// The token says nothing about who may watch: whoever holds it may, until
// it expires. It is handed only to people allowed to see the video, and
// lives for hours, not days.
package mediatoken

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

// Errors of Verify. All of them mean: refuse the request.
var (
	ErrMissing    = errors.New("no media token")
	ErrMalformed  = errors.New("malformed media token")
	ErrExpired    = errors.New("media token expired")
	ErrUnknownKey = errors.New("media token signed with an unknown key")
	ErrBadMAC     = errors.New("media token does not match this video")
	ErrNoKey      = errors.New("no media signing key yet")
)

// DefaultTTL is how long the tokens the API hands out live: long enough
// for a film, short enough that a leaked link dies the same day.
const DefaultTTL = 6 * time.Hour

// NewKey makes a fresh signing key.
func NewKey() model.SigningKey {
	var id [6]byte
	secret := make([]byte, 32)
	_, _ = rand.Read(id[:]) // crypto/rand never fails on Linux
	_, _ = rand.Read(secret)
	return model.SigningKey{ID: base64.RawURLEncoding.EncodeToString(id[:]), Secret: secret}
}

func mac(secret []byte, videoID string, exp int64) []byte {
	m := hmac.New(sha256.New, secret)
	// The domain tag and the separator keep a MAC for one purpose or one
	// (ID, expiry) pair from being valid for another.
	fmt.Fprintf(m, "strata-media-v1\x00%s\x00%d", videoID, exp)
	return m.Sum(nil)
}

// Sign makes a token for videoID that expires at exp, with the ring's
// current key.
func Sign(ring *model.SigningKeys, videoID string, exp time.Time) (string, error) {
	if ring == nil || ring.Current == "" {
		return "", ErrNoKey
	}
	k := ring.Key(ring.Current)
	if k == nil {
		return "", fmt.Errorf("current key %q is not in the ring: %w", ring.Current, ErrNoKey)
	}
	e := exp.Unix()
	return k.ID + "." + strconv.FormatInt(e, 36) + "." + base64.RawURLEncoding.EncodeToString(mac(k.Secret, videoID, e)), nil
}

// Verify checks token for videoID at now.
func Verify(ring *model.SigningKeys, videoID, token string, now time.Time) error {
	if token == "" {
		return ErrMissing
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" {
		return ErrMalformed
	}
	exp, err := strconv.ParseInt(parts[1], 36, 64)
	if err != nil {
		return ErrMalformed
	}
	got, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(got) != sha256.Size {
		return ErrMalformed
	}
	if ring == nil {
		return ErrUnknownKey
	}
	k := ring.Key(parts[0])
	if k == nil {
		return ErrUnknownKey
	}
	// The MAC first: an expired token for another video is a wrong token.
	if !hmac.Equal(got, mac(k.Secret, videoID, exp)) {
		return ErrBadMAC
	}
	if !now.Before(time.Unix(exp, 0)) {
		return ErrExpired
	}
	return nil
}

// Keys reads the key ring; *cluster.Node is one.
type Keys interface {
	SigningKeys() (*model.SigningKeys, error)
}

// Verifier verifies and signs with the ring read from Keys, remembering it
// for a second so a busy edge does not open a read transaction per
// request. A removed key may thus verify for up to a second longer.
type Verifier struct {
	keys Keys
	// Now is the clock; tests replace it.
	Now func() time.Time
	// TTL is how long a read of the ring is trusted.
	TTL time.Duration

	mu      sync.Mutex
	ring    *model.SigningKeys
	fetched time.Time
}

// NewVerifier makes a Verifier over keys.
func NewVerifier(keys Keys) *Verifier {
	return &Verifier{keys: keys, Now: time.Now, TTL: time.Second}
}

func (v *Verifier) current() (*model.SigningKeys, error) {
	now := v.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ring != nil && now.Sub(v.fetched) < v.TTL && now.Sub(v.fetched) >= 0 {
		return v.ring, nil
	}
	ring, err := v.keys.SigningKeys()
	if err != nil {
		return nil, fmt.Errorf("read media signing keys: %w", err)
	}
	v.ring, v.fetched = ring, now
	return ring, nil
}

// Verify checks token for videoID now. A token signed with a key the
// remembered ring lacks (a rotation another node has just applied) makes
// it read the ring again, at most every tenth of a second, so a rotation
// does not refuse good tokens for a second and made-up key IDs cannot
// make every request read the store.
func (v *Verifier) Verify(videoID, token string) error {
	ring, err := v.current()
	if err != nil {
		return err
	}
	err = Verify(ring, videoID, token, v.Now())
	if errors.Is(err, ErrUnknownKey) && v.staleFor(100*time.Millisecond) {
		v.Forget()
		if ring, err = v.current(); err != nil {
			return err
		}
		err = Verify(ring, videoID, token, v.Now())
	}
	return err
}

// staleFor reports whether the remembered ring is older than d.
func (v *Verifier) staleFor(d time.Duration) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.Now().Sub(v.fetched) >= d
}

// Sign makes a token for videoID that lives ttl from now.
func (v *Verifier) Sign(videoID string, ttl time.Duration) (string, time.Time, error) {
	ring, err := v.current()
	if err != nil {
		return "", time.Time{}, err
	}
	exp := v.Now().Add(ttl).Truncate(time.Second)
	tok, err := Sign(ring, videoID, exp)
	return tok, exp, err
}

// Forget drops the remembered ring, so the next call reads the store: for
// a node that has just applied a rotation.
func (v *Verifier) Forget() {
	v.mu.Lock()
	v.ring = nil
	v.mu.Unlock()
}
