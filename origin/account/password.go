package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
)

// argon2id parameters: OWASP's second recommendation (19 MiB, 2 passes),
// a little over 20 ms per hash on a small server, so a login is not a way
// to exhaust memory.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// hashPassword returns an argon2id hash in the PHC string format.
func hashPassword(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

var errBadHash = errors.New("not an argon2id hash")

// checkPassword compares pw with a hash made by hashPassword (or another
// argon2id hash in PHC format, with its own parameters).
func checkPassword(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is compared against when the account does not exist, so the
// answer takes as long either way.
var dummyHash = hashPassword("strata-dummy-password")

// passwordLogin is POST /api/v1/account/login/password: the fallback a host
// may turn on (password_login in the strata_api block).
func (s *Service) passwordLogin(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.PasswordLogin {
		writeError(w, http.StatusNotFound, "password_login_off", "this site logs in with passkeys only")
		return
	}
	var body struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	body.Name = strings.ToLower(strings.TrimSpace(body.Name))
	if !s.rateOK(w, r, body.Name) {
		return
	}
	u, err := s.node.UserByName(body.Name)
	hash := dummyHash
	if err == nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	ok, _ := checkPassword(hash, body.Password)
	if err != nil || u.PasswordHash == "" || !ok {
		writeError(w, http.StatusUnauthorized, "login_failed", "wrong name or password")
		return
	}
	if u.Disabled {
		writeError(w, http.StatusForbidden, "account_disabled", ErrDisabled.Error())
		return
	}
	s.startSession(w, r, u)
}

// setPassword is PUT /api/v1/account/password: {"password": "…"} sets the
// logged-in user's password, "" removes it.
func (s *Service) setPassword(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.PasswordLogin {
		writeError(w, http.StatusNotFound, "password_login_off", "this site logs in with passkeys only")
		return
	}
	p := Need(w, r, model.ScopeAdmin)
	if p == nil {
		return
	}
	var body struct {
		Password string `json:"password"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	hash := ""
	if body.Password != "" {
		if n := utf8.RuneCountInString(body.Password); n < 12 || n > 256 {
			writeError(w, http.StatusBadRequest, "weak_password", "a password has 12 to 256 characters")
			return
		}
		hash = hashPassword(body.Password)
	}
	if _, err := s.node.Apply(r.Context(), &command.UpdateUser{Stamp: s.stamp(), ID: p.User.ID, PasswordHash: &hash}); err != nil {
		s.writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
