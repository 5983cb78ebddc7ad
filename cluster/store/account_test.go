package store

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

func (h *harness) mustUser(id, name string) *model.User {
	h.t.Helper()
	v, err := h.do(func(tx *Tx) (any, error) {
		return tx.CreateUser(&command.CreateUser{Stamp: h.at(), User: model.User{ID: id, Name: name}})
	})
	if err != nil {
		h.t.Fatalf("create user %s: %v", name, err)
	}
	return v.(*model.User)
}

func TestCreateUser(t *testing.T) {
	h := newHarness(t)
	h.mustUser("u1", "alice")
	cases := []struct {
		name string
		cmd  command.CreateUser
		want error
	}{
		{"taken name", command.CreateUser{User: model.User{ID: "u2", Name: "alice"}}, ErrExists},
		{"taken id", command.CreateUser{User: model.User{ID: "u1", Name: "bob"}}, ErrExists},
		{"upper case", command.CreateUser{User: model.User{ID: "u3", Name: "Bob"}}, ErrInvalid},
		{"too short", command.CreateUser{User: model.User{ID: "u3", Name: "b"}}, ErrInvalid},
		{"no id", command.CreateUser{User: model.User{Name: "carol"}}, ErrInvalid},
		{"bad role", command.CreateUser{User: model.User{ID: "u3", Name: "carol", Role: "king"}}, ErrInvalid},
		{"first admin when users exist", command.CreateUser{User: model.User{ID: "u3", Name: "carol"}, FirstAdmin: true}, ErrExists},
		{"ok", command.CreateUser{User: model.User{ID: "u3", Name: "carol", Role: model.RoleModerator}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cmd
			c.Stamp = h.at()
			_, err := h.do(func(tx *Tx) (any, error) { return tx.CreateUser(&c) })
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	u, err := h.s.UserByName("carol")
	if err != nil || u.ID != "u3" || u.Role != model.RoleModerator || u.DisplayName != "carol" {
		t.Fatalf("UserByName = %+v, %v", u, err)
	}
	if _, err := h.s.UserByName("bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused user was kept: %v", err)
	}
}

func TestFirstAdminOnlyOnce(t *testing.T) {
	h := newHarness(t)
	first := func(id, name string) error {
		_, err := h.do(func(tx *Tx) (any, error) {
			return tx.CreateUser(&command.CreateUser{Stamp: h.at(), FirstAdmin: true, User: model.User{ID: id, Name: name, Role: model.RoleAdmin}})
		})
		return err
	}
	if err := first("a1", "root"); err != nil {
		t.Fatal(err)
	}
	if err := first("a2", "root2"); !errors.Is(err, ErrExists) {
		t.Fatalf("second first admin: %v", err)
	}
}

func TestChallengeSingleUseAndExpiry(t *testing.T) {
	h := newHarness(t)
	put := func(id string) {
		t.Helper()
		if _, err := h.do(func(tx *Tx) (any, error) {
			return tx.PutChallenge(&command.PutChallenge{Stamp: h.at(), Challenge: model.Challenge{ID: id, Kind: model.ChallengeLogin, Session: []byte(`{}`)}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	consume := func(id string, kind model.ChallengeKind, at time.Time) error {
		_, err := h.do(func(tx *Tx) (any, error) {
			return tx.ConsumeChallenge(&command.ConsumeChallenge{Stamp: command.Stamp{At: at}, ID: id, Kind: kind})
		})
		return err
	}
	put("c1")
	put("c2")
	put("c3")
	start := h.now
	cases := []struct {
		name string
		id   string
		kind model.ChallengeKind
		at   time.Time
		want error
	}{
		{"wrong kind", "c1", model.ChallengeRegister, start.Add(time.Minute), ErrInvalid},
		{"fresh", "c1", model.ChallengeLogin, start.Add(time.Minute), nil},
		{"reused", "c1", model.ChallengeLogin, start.Add(2 * time.Minute), ErrUsed},
		{"just before expiry", "c2", model.ChallengeLogin, start.Add(model.ChallengeLifetime - time.Second), nil},
		{"at expiry", "c3", model.ChallengeLogin, start.Add(model.ChallengeLifetime), ErrExpired},
		{"unknown", "nope", model.ChallengeLogin, start, ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := consume(tc.id, tc.kind, tc.at)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// A later put sweeps what has expired.
	h.now = start.Add(time.Hour)
	put("c4")
	if _, err := h.s.Challenge("c3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired challenge not swept: %v", err)
	}
}

func TestUsePasskeyFlagsClones(t *testing.T) {
	h := newHarness(t)
	h.mustUser("u1", "alice")
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.AddPasskey(&command.AddPasskey{Stamp: h.at(), Passkey: model.Passkey{ID: "k1", UserID: "u1", PublicKey: []byte{1}, SignCount: 5}})
	}); err != nil {
		t.Fatal(err)
	}
	use := func(n uint32) *model.Passkey {
		t.Helper()
		v, err := h.do(func(tx *Tx) (any, error) {
			return tx.UsePasskey(&command.UsePasskey{Stamp: h.at(), ID: "k1", SignCount: n})
		})
		if err != nil {
			t.Fatal(err)
		}
		return v.(*model.Passkey)
	}
	cases := []struct {
		name       string
		count      uint32
		wantCount  uint32
		wantCloned bool
	}{
		{"forward", 6, 6, false},
		{"forward again", 10, 10, false},
		{"same count", 10, 10, true},
		{"a flagged key stays flagged", 11, 10, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := use(tc.count)
			if p.SignCount != tc.wantCount || p.Cloned != tc.wantCloned {
				t.Fatalf("got count %d cloned %v, want %d %v", p.SignCount, p.Cloned, tc.wantCount, tc.wantCloned)
			}
		})
	}
	if p, _ := h.s.Passkey("k1"); !p.Cloned {
		t.Fatal("the clone flag was not stored")
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.AddPasskey(&command.AddPasskey{Stamp: h.at(), Passkey: model.Passkey{ID: "k1", UserID: "u1", PublicKey: []byte{1}}})
	}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate credential: %v", err)
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.DeletePasskey(&command.DeletePasskey{Stamp: h.at(), UserID: "someone-else", ID: "k1"})
	}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting another user's passkey: %v", err)
	}
}

func TestSessionsAndTokens(t *testing.T) {
	h := newHarness(t)
	h.mustUser("u1", "alice")
	h.mustUser("u2", "bob")
	mk := func(id, user string, ttl time.Duration) error {
		_, err := h.do(func(tx *Tx) (any, error) {
			return tx.CreateSession(&command.CreateSession{Stamp: h.at(), Session: model.Session{ID: id, UserID: user, CSRFHash: "x", ExpiresAt: h.now.Add(ttl)}})
		})
		return err
	}
	if err := mk("s1", "u1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := mk("s0", "u1", 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("expired at birth: %v", err)
	}
	if err := mk("s2", "nobody", time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session of unknown user: %v", err)
	}
	h.now = h.now.Add(2 * time.Hour)
	if err := mk("s3", "u1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if ss, _ := h.s.Sessions("u1"); len(ss) != 1 || ss[0].ID != "s3" {
		t.Fatalf("expired session not swept: %+v", ss)
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.DeleteSession(&command.DeleteSession{Stamp: h.at(), ID: "s3", UserID: "u2"})
	}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob revoked alice's session: %v", err)
	}

	tok := model.APIToken{ID: "t1", UserID: "u1", Name: "ci", Scopes: []model.Scope{model.ScopeUpload}, Hash: "h1"}
	for _, tc := range []struct {
		name string
		tok  model.APIToken
		want error
	}{
		{"ok", tok, nil},
		{"same hash", model.APIToken{ID: "t2", UserID: "u1", Scopes: []model.Scope{model.ScopeRead}, Hash: "h1"}, ErrExists},
		{"bad scope", model.APIToken{ID: "t3", UserID: "u1", Scopes: []model.Scope{"root"}, Hash: "h3"}, ErrInvalid},
		{"no scope", model.APIToken{ID: "t4", UserID: "u1", Hash: "h4"}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.do(func(tx *Tx) (any, error) { return tx.CreateToken(&command.CreateToken{Stamp: h.at(), Token: tc.tok}) })
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if k, err := h.s.TokenByHash("h1"); err != nil || k.ID != "t1" || !k.Has(model.ScopeRead) || k.Has(model.ScopeAdmin) {
		t.Fatalf("TokenByHash = %+v, %v", k, err)
	}
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.DeleteToken(&command.DeleteToken{Stamp: h.at(), ID: "t1", UserID: "u1"})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.TokenByHash("h1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked token still found: %v", err)
	}
}

func TestSigningKeyRotation(t *testing.T) {
	h := newHarness(t)
	key := func(id string) model.SigningKey {
		return model.SigningKey{ID: id, Secret: bytes.Repeat([]byte(id[:1]), 32)}
	}
	rotate := func(c command.RotateSigningKey) (*model.SigningKeys, error) {
		c.Stamp = h.at()
		v, err := h.do(func(tx *Tx) (any, error) { return tx.RotateSigningKey(&c) })
		if err != nil {
			return nil, err
		}
		return v.(*model.SigningKeys), nil
	}
	if r, err := rotate(command.RotateSigningKey{Key: key("a"), OnlyIfNone: true}); err != nil || r.Current != "a" {
		t.Fatalf("first key: %+v %v", r, err)
	}
	if r, err := rotate(command.RotateSigningKey{Key: key("b"), OnlyIfNone: true}); err != nil || r.Current != "a" || len(r.Keys) != 1 {
		t.Fatalf("OnlyIfNone replaced the key: %+v %v", r, err)
	}
	if r, err := rotate(command.RotateSigningKey{Key: key("b")}); err != nil || r.Current != "b" || len(r.Keys) != 2 {
		t.Fatalf("rotate: %+v %v", r, err)
	}
	if _, err := rotate(command.RotateSigningKey{Key: model.SigningKey{ID: "c", Secret: []byte("short")}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short key: %v", err)
	}
	remove := func(id string) error {
		_, err := h.do(func(tx *Tx) (any, error) {
			return tx.RemoveSigningKey(&command.RemoveSigningKey{Stamp: h.at(), ID: id})
		})
		return err
	}
	if err := remove("b"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("removed the current key: %v", err)
	}
	if err := remove("a"); err != nil {
		t.Fatal(err)
	}
	if r, _ := h.s.SigningKeys(); r.Current != "b" || len(r.Keys) != 1 || r.Key("a") != nil {
		t.Fatalf("ring after removal: %+v", r)
	}
}

func TestSetupLink(t *testing.T) {
	h := newHarness(t)
	h.mustUser("u1", "root")
	if _, err := h.do(func(tx *Tx) (any, error) {
		return tx.CreateSetupLink(&command.CreateSetupLink{Stamp: h.at(), Link: model.SetupLink{ID: "l1", UserID: "u1", ExpiresAt: h.now.Add(time.Hour)}})
	}); err != nil {
		t.Fatal(err)
	}
	consume := func(at time.Time) error {
		_, err := h.do(func(tx *Tx) (any, error) {
			return tx.ConsumeSetupLink(&command.ConsumeSetupLink{Stamp: command.Stamp{At: at}, ID: "l1"})
		})
		return err
	}
	if err := consume(h.now.Add(2 * time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired link: %v", err)
	}
	if err := consume(h.now); err != nil {
		t.Fatal(err)
	}
	if err := consume(h.now); !errors.Is(err, ErrUsed) {
		t.Fatalf("reused link: %v", err)
	}
}

func TestOwnedVideosAndUsage(t *testing.T) {
	h := newHarness(t)
	h.mustUser("u1", "alice")
	h.mustUser("u2", "bob")
	mk := func(id, owner string, size int64) {
		t.Helper()
		if _, err := h.do(func(tx *Tx) (any, error) {
			return tx.CreateVideo(&command.CreateVideo{Stamp: h.at(), Video: model.Video{ID: id, Title: id, Owner: owner, SizeBytes: size}})
		}); err != nil {
			t.Fatal(err)
		}
		h.now = h.now.Add(time.Second)
	}
	mk("v1", "u1", 100)
	mk("v2", "u2", 1000)
	mk("v3", "u1", 50)
	vs, err := h.s.VideosOf("u1", 10)
	if err != nil || len(vs) != 2 || vs[0].ID != "v3" || vs[1].ID != "v1" {
		t.Fatalf("VideosOf(u1) = %v, %v", vs, err)
	}
	if u, _ := h.s.User("u1"); u.StorageUsed != 150 || u.UploadedToday != 150 {
		t.Fatalf("usage = %d/%d, want 150/150", u.StorageUsed, u.UploadedToday)
	}
	if _, err := h.do(func(tx *Tx) (any, error) { return tx.DeleteVideo(&command.DeleteVideo{Stamp: h.at(), ID: "v1"}) }); err != nil {
		t.Fatal(err)
	}
	if u, _ := h.s.User("u1"); u.StorageUsed != 50 || u.UploadedToday != 150 {
		t.Fatalf("after delete usage = %d/%d, want 50/150", u.StorageUsed, u.UploadedToday)
	}
	h.now = h.now.Add(24 * time.Hour)
	mk("v4", "u1", 7)
	if u, _ := h.s.User("u1"); u.UploadedToday != 7 {
		t.Fatalf("a new day kept %d bytes", u.UploadedToday)
	}
	if vs, _ := h.s.VideosOf("u2", 10); len(vs) != 1 || vs[0].ID != "v2" {
		t.Fatalf("VideosOf(u2) = %v", vs)
	}
}
