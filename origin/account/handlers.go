package account

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
	"github.com/stratavideo/strata/origin/httperr"
)

// Routes mounts the account endpoints on mux:
//
//	POST   /api/v1/account/register/begin    {name, display_name} | {setup_token} | {} (add a passkey)
//	POST   /api/v1/account/register/finish   ?ceremony=ID&name=LABEL, body: the credential
//	POST   /api/v1/account/login/begin       {name} | {} (discoverable)
//	POST   /api/v1/account/login/finish      ?ceremony=ID, body: the assertion
//	POST   /api/v1/account/login/password    {name, password} (when password_login is on)
//	POST   /api/v1/account/logout
//	GET    /api/v1/account/me                the account, and the CSRF token for writes
//	PUT    /api/v1/account/password          {password} (when password_login is on)
//	GET    /api/v1/account/passkeys          DELETE /api/v1/account/passkeys/{id}
//	GET    /api/v1/account/sessions          DELETE /api/v1/account/sessions/{id}
//	GET    /api/v1/account/tokens            POST {name, scopes}   DELETE /api/v1/account/tokens/{id}
//	GET    /api/v1/admin/users               PATCH /api/v1/admin/users/{id} {role, disabled, storage_quota, daily_upload_quota}
//
// "My videos" (GET /api/v1/account/videos) is the API handler's, which
// knows how to show a video.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/account/register/begin", s.registerBegin)
	mux.HandleFunc("POST /api/v1/account/register/finish", s.registerFinish)
	mux.HandleFunc("POST /api/v1/account/login/begin", s.loginBegin)
	mux.HandleFunc("POST /api/v1/account/login/finish", s.loginFinish)
	mux.HandleFunc("POST /api/v1/account/login/password", s.passwordLogin)
	mux.HandleFunc("POST /api/v1/account/logout", s.logout)
	mux.HandleFunc("GET /api/v1/account/me", s.me)
	mux.HandleFunc("PUT /api/v1/account/password", s.setPassword)
	mux.HandleFunc("GET /api/v1/account/passkeys", s.listPasskeys)
	mux.HandleFunc("DELETE /api/v1/account/passkeys/{id}", s.deletePasskey)
	mux.HandleFunc("GET /api/v1/account/sessions", s.listSessions)
	mux.HandleFunc("DELETE /api/v1/account/sessions/{id}", s.deleteSession)
	mux.HandleFunc("GET /api/v1/account/tokens", s.listTokens)
	mux.HandleFunc("POST /api/v1/account/tokens", s.createToken)
	mux.HandleFunc("DELETE /api/v1/account/tokens/{id}", s.deleteToken)
	mux.HandleFunc("GET /api/v1/admin/users", s.listUsers)
	mux.HandleFunc("PATCH /api/v1/admin/users/{id}", s.patchUser)
}

// Me is GET /api/v1/account/me's answer.
type Me struct {
	User      UserView `json:"user"`
	CSRFToken string   `json:"csrf_token,omitempty"`
	// Via says how the request authenticated: "session" or "token".
	Via string `json:"via"`
}

// UserView is an account as its owner and admins see it.
type UserView struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	DisplayName      string     `json:"display_name"`
	Role             model.Role `json:"role"`
	Disabled         bool       `json:"disabled,omitempty"`
	StorageQuota     int64      `json:"storage_quota"`
	DailyUploadQuota int64      `json:"daily_upload_quota"`
	StorageUsed      int64      `json:"storage_used"`
	HasPassword      bool       `json:"has_password"`
	CreatedAt        time.Time  `json:"created_at"`
}

func userView(u *model.User) UserView {
	return UserView{ID: u.ID, Name: u.Name, DisplayName: u.DisplayName, Role: u.Role, Disabled: u.Disabled,
		StorageQuota: u.StorageQuota, DailyUploadQuota: u.DailyUploadQuota, StorageUsed: u.StorageUsed,
		HasPassword: u.PasswordHash != "", CreatedAt: u.CreatedAt}
}

// Need answers 401 or 403 and returns nil unless the request is
// authenticated with a credential that grants scope.
func Need(w http.ResponseWriter, r *http.Request, scope model.Scope) *Principal {
	p := FromContext(r.Context())
	if p == nil {
		writeError(w, http.StatusUnauthorized, "unauthorized", "log in, or send an API token as Authorization: Bearer …")
		return nil
	}
	if !p.Allows(scope) {
		writeError(w, http.StatusForbidden, "insufficient_scope", "this API token lacks the "+string(scope)+" scope")
		return nil
	}
	return p
}

func (s *Service) me(w http.ResponseWriter, r *http.Request) {
	p := Need(w, r, model.ScopeRead)
	if p == nil {
		return
	}
	via := "session"
	if p.Token != nil {
		via = "token"
	}
	writeJSON(w, http.StatusOK, Me{User: userView(p.User), CSRFToken: p.CSRFToken(), Via: via})
}

// startSession records a session for u, sets its cookie and answers like
// /me.
func (s *Service) startSession(w http.ResponseWriter, r *http.Request, u *model.User) {
	secret := newSecret(32)
	now := s.cfg.Now().UTC()
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	sess := model.Session{ID: hashHex(secret), UserID: u.ID, ExpiresAt: now.Add(s.cfg.SessionTTL),
		UserAgent: ua, IP: clientIP(r), CSRFHash: hashHex(csrfToken(secret))}
	v, err := s.node.Apply(r.Context(), &command.CreateSession{Stamp: command.Stamp{At: now}, Session: sess})
	if err != nil {
		s.writeErr(w, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: secret, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	p := &Principal{User: u, Session: v.(*model.Session), secret: secret}
	writeJSON(w, http.StatusOK, Me{User: userView(u), CSRFToken: p.CSRFToken(), Via: "session"})
}

func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	p := FromContext(r.Context())
	if p != nil && p.Session != nil {
		if _, err := s.node.Apply(r.Context(), &command.DeleteSession{Stamp: s.stamp(), ID: p.Session.ID}); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.writeErr(w, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
}

// PasskeyView is a passkey as its owner sees it.
type PasskeyView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	Synced     bool      `json:"synced"`
	Flagged    bool      `json:"flagged"`
	Transports []string  `json:"transports"`
}

func passkeyView(p *model.Passkey) PasskeyView {
	t := p.Transports
	if t == nil {
		t = []string{}
	}
	return PasskeyView{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt,
		Synced: p.BackupState, Flagged: p.Cloned, Transports: t}
}

func (s *Service) listPasskeys(w http.ResponseWriter, r *http.Request) {
	p := Need(w, r, model.ScopeRead)
	if p == nil {
		return
	}
	ps, err := s.node.Passkeys(p.User.ID)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := make([]PasskeyView, 0, len(ps))
	for _, k := range ps {
		out = append(out, passkeyView(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"passkeys": out})
}

// deletePasskey removes a passkey, unless it is the last way in.
func (s *Service) deletePasskey(w http.ResponseWriter, r *http.Request) {
	p := Need(w, r, model.ScopeAdmin)
	if p == nil {
		return
	}
	ps, err := s.node.Passkeys(p.User.ID)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	usable := 0
	for _, k := range ps {
		if !k.Cloned && k.ID != r.PathValue("id") {
			usable++
		}
	}
	if usable == 0 && p.User.PasswordHash == "" {
		writeError(w, http.StatusConflict, "last_passkey", "this is your last working passkey; add another before removing it")
		return
	}
	if _, err := s.node.Apply(r.Context(), &command.DeletePasskey{Stamp: s.stamp(), UserID: p.User.ID, ID: r.PathValue("id")}); err != nil {
		s.writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// SessionView is a session as its owner sees it.
type SessionView struct {
	ID        string    `json:"id"`
	Current   bool      `json:"current"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	UserAgent string    `json:"user_agent"`
	IP        string    `json:"ip"`
}

func (s *Service) listSessions(w http.ResponseWriter, r *http.Request) {
	p := Need(w, r, model.ScopeRead)
	if p == nil {
		return
	}
	ss, err := s.node.Sessions(p.User.ID)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	now := s.cfg.Now()
	out := []SessionView{}
	for _, x := range ss {
		if !now.Before(x.ExpiresAt) {
			continue
		}
		// The session ID is a hash of the cookie, safe to show: it
		// cannot be turned back into a cookie.
		out = append(out, SessionView{ID: x.ID, Current: p.Session != nil && x.ID == p.Session.ID,
			CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt, UserAgent: x.UserAgent, IP: x.IP})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (s *Service) deleteSession(w http.ResponseWriter, r *http.Request) {
	p := Need(w, r, model.ScopeAdmin)
	if p == nil {
		return
	}
	if _, err := s.node.Apply(r.Context(), &command.DeleteSession{Stamp: s.stamp(), ID: r.PathValue("id"), UserID: p.User.ID}); err != nil {
		s.writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// TokenView is an API token as its owner sees it; Secret only once, in
// the answer that made it.
type TokenView struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	Scopes     []model.Scope `json:"scopes"`
	CreatedAt  time.Time     `json:"created_at"`
	LastUsedAt time.Time     `json:"last_used_at,omitzero"`
	Secret     string        `json:"token,omitempty"`
}

func (s *Service) listTokens(w http.ResponseWriter, r *http.Request) {
	p := Need(w, r, model.ScopeRead)
	if p == nil {
		return
	}
	ks, err := s.node.Tokens(p.User.ID)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := make([]TokenView, 0, len(ks))
	for _, k := range ks {
		out = append(out, TokenView{ID: k.ID, Name: k.Name, Scopes: k.Scopes, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// createToken makes an API token: from a session, or from a token with the
// admin scope (a token cannot mint one with more than it has).
func (s *Service) createToken(w http.ResponseWriter, r *http.Request) {
	p := Need(w, r, model.ScopeAdmin)
	if p == nil {
		return
	}
	if !s.rateOK(w, r, p.User.Name) {
		return
	}
	var body struct {
		Name   string        `json:"name"`
		Scopes []model.Scope `json:"scopes"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	body.Name = strings.TrimSpace(body.Name)
	if body.Name == "" || len(body.Name) > 64 {
		writeError(w, http.StatusBadRequest, "bad_request", "a token needs a name of 1 to 64 characters")
		return
	}
	if len(body.Scopes) == 0 {
		body.Scopes = []model.Scope{model.ScopeRead}
	}
	for _, sc := range body.Scopes {
		if !sc.Valid() {
			writeError(w, http.StatusBadRequest, "bad_scope", "scopes are read, upload and admin")
			return
		}
	}
	tok, secret, err := s.NewToken(r.Context(), p.User.ID, body.Name, body.Scopes)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, TokenView{ID: tok.ID, Name: tok.Name, Scopes: tok.Scopes, CreatedAt: tok.CreatedAt, Secret: secret})
}

// NewToken makes an API token for userID and returns it with its secret,
// which is not kept.
func (s *Service) NewToken(ctx context.Context, userID, name string, scopes []model.Scope) (*model.APIToken, string, error) {
	secret := tokenPrefix + newSecret(32)
	v, err := s.node.Apply(ctx, &command.CreateToken{Stamp: s.stamp(), Token: model.APIToken{
		ID: newID(), UserID: userID, Name: name, Scopes: scopes, Hash: hashHex(secret)}})
	if err != nil {
		return nil, "", err
	}
	return v.(*model.APIToken), secret, nil
}

func (s *Service) deleteToken(w http.ResponseWriter, r *http.Request) {
	p := Need(w, r, model.ScopeAdmin)
	if p == nil {
		return
	}
	if _, err := s.node.Apply(r.Context(), &command.DeleteToken{Stamp: s.stamp(), ID: r.PathValue("id"), UserID: p.User.ID}); err != nil {
		s.writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) listUsers(w http.ResponseWriter, r *http.Request) {
	p := Need(w, r, model.ScopeAdmin)
	if p == nil {
		return
	}
	if !p.IsAdmin() {
		writeError(w, http.StatusForbidden, "forbidden", "only admins manage accounts")
		return
	}
	us, err := s.node.Users()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := make([]UserView, 0, len(us))
	for _, u := range us {
		out = append(out, userView(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// patchUser lets an admin set a user's role, disable the account and set
// its quotas.
func (s *Service) patchUser(w http.ResponseWriter, r *http.Request) {
	p := Need(w, r, model.ScopeAdmin)
	if p == nil {
		return
	}
	if !p.IsAdmin() {
		writeError(w, http.StatusForbidden, "forbidden", "only admins manage accounts")
		return
	}
	var body struct {
		DisplayName      *string     `json:"display_name"`
		Role             *model.Role `json:"role"`
		Disabled         *bool       `json:"disabled"`
		StorageQuota     *int64      `json:"storage_quota"`
		DailyUploadQuota *int64      `json:"daily_upload_quota"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	id := r.PathValue("id")
	if id == p.User.ID && (body.Disabled != nil && *body.Disabled || body.Role != nil && *body.Role != model.RoleAdmin) {
		writeError(w, http.StatusConflict, "self_demotion", "an admin cannot disable or demote themselves")
		return
	}
	v, err := s.node.Apply(r.Context(), &command.UpdateUser{Stamp: s.stamp(), ID: id, DisplayName: body.DisplayName,
		Role: body.Role, Disabled: body.Disabled, StorageQuota: body.StorageQuota, DailyUploadQuota: body.DailyUploadQuota})
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, userView(v.(*model.User)))
}

// setupLink finds an unused, unexpired setup link by its secret.
func (s *Service) setupLink(secret string) (*model.SetupLink, error) {
	l, err := s.node.SetupLink(hashHex(secret))
	if err != nil {
		return nil, err
	}
	switch {
	case !l.UsedAt.IsZero():
		return nil, store.ErrUsed
	case !s.cfg.Now().Before(l.ExpiresAt):
		return nil, store.ErrExpired
	}
	return l, nil
}

// rateOK spends a token of the client's and of the name's bucket, or
// answers 429.
func (s *Service) rateOK(w http.ResponseWriter, r *http.Request, name string) bool {
	ok := s.limits.authIP.allow(clientIP(r))
	if ok && name != "" {
		ok = s.limits.authName.allow(name)
	}
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.limits.authIP.every.Seconds())))
		writeError(w, http.StatusTooManyRequests, "rate_limited", ErrRateLimited.Error())
	}
	return ok
}

// WriteAuthError answers an Authenticate error.
func WriteAuthError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrRateLimited):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "rate_limited", err.Error())
	case errors.Is(err, ErrDisabled):
		writeError(w, http.StatusForbidden, "account_disabled", err.Error())
	default:
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
	}
}

func (s *Service) writeChallengeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrUsed):
		writeError(w, http.StatusBadRequest, "challenge_used", "this challenge was used already; start again")
	case errors.Is(err, store.ErrExpired):
		writeError(w, http.StatusBadRequest, "challenge_expired", "this challenge has expired; start again")
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusBadRequest, "challenge_unknown", "no such challenge; start again")
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "challenge_invalid", "this challenge belongs to another ceremony")
	default:
		s.writeErr(w, err)
	}
}

func (s *Service) writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, store.ErrExists):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	case errors.Is(err, store.ErrUsed), errors.Is(err, store.ErrExpired):
		writeError(w, http.StatusGone, "link_expired", "this link was used already or has expired")
	case errors.Is(err, cluster.ErrUpgradeInProgress):
		writeError(w, http.StatusServiceUnavailable, "upgrade_in_progress", cluster.ErrUpgradeInProgress.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusGatewayTimeout, "timeout", "the request took too long")
	default:
		s.log.Error("account request failed", "error", err)
		httperr.Internal(w)
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	httperr.Write(w, status, code, msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decodeBody reads a small JSON object; an empty body is an empty object.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && err.Error() != "EOF" {
		writeError(w, http.StatusBadRequest, "bad_request", "the body must be a JSON object: "+err.Error())
		return false
	}
	return true
}
