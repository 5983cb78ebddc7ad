package mediatoken

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

type ringSource struct{ ring *model.SigningKeys }

func (r *ringSource) SigningKeys() (*model.SigningKeys, error) { return r.ring, nil }

func TestSignVerify(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b := NewKey(), NewKey()
	ringA := &model.SigningKeys{Current: a.ID, Keys: []model.SigningKey{a}}
	ringAB := &model.SigningKeys{Current: b.ID, Keys: []model.SigningKey{a, b}}
	ringB := &model.SigningKeys{Current: b.ID, Keys: []model.SigningKey{b}}

	tok, err := Sign(ringA, "vid1", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if url.QueryEscape(tok) != tok {
		t.Fatalf("token %q is not URL-safe", tok)
	}
	tokB, _ := Sign(ringAB, "vid1", now.Add(time.Hour))
	cases := []struct {
		name  string
		ring  *model.SigningKeys
		video string
		token string
		at    time.Time
		want  error
	}{
		{"valid", ringA, "vid1", tok, now, nil},
		{"valid after rotation", ringAB, "vid1", tok, now, nil},
		{"new key after rotation", ringAB, "vid1", tokB, now, nil},
		{"old key removed", ringB, "vid1", tok, now, ErrUnknownKey},
		{"another video", ringA, "vid2", tok, now, ErrBadMAC},
		{"at expiry", ringA, "vid1", tok, now.Add(time.Hour), ErrExpired},
		{"expired", ringA, "vid1", tok, now.Add(2 * time.Hour), ErrExpired},
		{"missing", ringA, "vid1", "", now, ErrMissing},
		{"garbage", ringA, "vid1", "a.b", now, ErrMalformed},
		{"bad expiry", ringA, "vid1", a.ID + ".!!." + tok[len(tok)-43:], now, ErrMalformed},
		{"extended expiry", ringA, "vid1", extend(tok), now, ErrBadMAC},
		{"no ring", nil, "vid1", tok, now, ErrUnknownKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(tc.ring, tc.video, tc.token, tc.at); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Sign(&model.SigningKeys{}, "vid1", now); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Sign without a key: %v", err)
	}
}

// extend moves a token's expiry one step later, keeping its MAC.
func extend(tok string) string {
	b := []byte(tok)
	for i := range b {
		if b[i] == '.' {
			j := i + 1
			if b[j] == 'z' {
				b[j] = '0'
			} else if b[j] == '9' {
				b[j] = 'a'
			} else {
				b[j]++
			}
			break
		}
	}
	return string(b)
}

func TestVerifierRefreshesRing(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b := NewKey(), NewKey()
	src := &ringSource{ring: &model.SigningKeys{Current: a.ID, Keys: []model.SigningKey{a}}}
	v := NewVerifier(src)
	v.Now = func() time.Time { return now }
	tok, _, err := v.Sign("vid1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify("vid1", tok); err != nil {
		t.Fatal(err)
	}
	// Rotate and drop the old key: remembered for TTL, then re-read.
	src.ring = &model.SigningKeys{Current: b.ID, Keys: []model.SigningKey{b}}
	if err := v.Verify("vid1", tok); err != nil {
		t.Fatalf("within the TTL the remembered ring verifies: %v", err)
	}
	now = now.Add(2 * time.Second)
	if err := v.Verify("vid1", tok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("after the TTL: %v", err)
	}
}

// TestVerifierLearnsANewKey: a token of a key made since the ring was read
// verifies at once (the ring is read again), but made-up key IDs read the
// store at most every tenth of a second.
func TestVerifierLearnsANewKey(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b := NewKey(), NewKey()
	src := &ringSource{ring: &model.SigningKeys{Current: a.ID, Keys: []model.SigningKey{a}}}
	v := NewVerifier(src)
	v.Now = func() time.Time { return now }
	if _, _, err := v.Sign("vid1", time.Hour); err != nil {
		t.Fatal(err)
	}
	rotated := &model.SigningKeys{Current: b.ID, Keys: []model.SigningKey{a, b}}
	tok, err := Sign(rotated, "vid1", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	src.ring = rotated
	if err := v.Verify("vid1", tok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("right after a read the ring is not read again: %v", err)
	}
	now = now.Add(200 * time.Millisecond) // still within the TTL
	if err := v.Verify("vid1", tok); err != nil {
		t.Fatalf("a new key's token within the TTL: %v", err)
	}
}
