package account

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

// waUser adapts an account and its passkeys to go-webauthn.
type waUser struct {
	u     *model.User
	creds []webauthn.Credential
}

func (w *waUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w *waUser) WebAuthnName() string                       { return w.u.Name }
func (w *waUser) WebAuthnDisplayName() string                { return w.u.DisplayName }
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func toCredential(p *model.Passkey) (webauthn.Credential, error) {
	id, err := base64.RawURLEncoding.DecodeString(p.ID)
	if err != nil {
		return webauthn.Credential{}, fmt.Errorf("passkey id %q: %w", p.ID, err)
	}
	transports := make([]protocol.AuthenticatorTransport, 0, len(p.Transports))
	for _, t := range p.Transports {
		transports = append(transports, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{
		ID: id, PublicKey: p.PublicKey, AttestationType: p.AttestationType, AttestationFormat: p.AttestationFormat,
		Transport: transports,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: p.UserVerified,
			BackupEligible: p.BackupEligible, BackupState: p.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}, nil
}

// loadUser reads an account with its passkeys in go-webauthn's shape.
func (s *Service) loadUser(u *model.User) (*waUser, []*model.Passkey, error) {
	ps, err := s.node.Passkeys(u.ID)
	if err != nil {
		return nil, nil, err
	}
	w := &waUser{u: u}
	for _, p := range ps {
		c, err := toCredential(p)
		if err != nil {
			return nil, nil, err
		}
		w.creds = append(w.creds, c)
	}
	return w, ps, nil
}

// relyingParty is go-webauthn configured for r: the configured RP ID and
// origins, or the request's own host and origin.
func (s *Service) relyingParty(r *http.Request) (*webauthn.WebAuthn, error) {
	rpID := s.rpID(r)
	if net.ParseIP(rpID) != nil {
		return nil, fmt.Errorf("passkeys need a host name, not the address %s: open the site as http://localhost:… or set rp_id", rpID)
	}
	return webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: s.cfg.RPName,
		RPOrigins:     s.origins(r),
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationPreferred,
		},
		AttestationPreference: protocol.PreferNoAttestation,
	})
}

// putChallenge keeps a ceremony's session data in the replicated store and
// returns the ceremony's ID. The lifetime is the store's (five minutes
// from the command's stamp), not go-webauthn's own clock.
func (s *Service) putChallenge(ctx context.Context, kind model.ChallengeKind, sd *webauthn.SessionData, ch model.Challenge) (string, error) {
	sd.Expires = time.Time{}
	raw, err := json.Marshal(sd)
	if err != nil {
		return "", fmt.Errorf("encode ceremony: %w", err)
	}
	ch.ID, ch.Kind, ch.Session = newID(), kind, raw
	if _, err := s.node.Apply(ctx, &command.PutChallenge{Stamp: s.stamp(), Challenge: ch}); err != nil {
		return "", fmt.Errorf("store ceremony: %w", err)
	}
	return ch.ID, nil
}

// takeChallenge consumes a ceremony once.
func (s *Service) takeChallenge(ctx context.Context, id string, kind model.ChallengeKind) (*model.Challenge, *webauthn.SessionData, error) {
	if id == "" {
		return nil, nil, fmt.Errorf("no ceremony given: %w", store.ErrNotFound)
	}
	v, err := s.node.Apply(ctx, &command.ConsumeChallenge{Stamp: s.stamp(), ID: id, Kind: kind})
	if err != nil {
		return nil, nil, err
	}
	ch := v.(*model.Challenge)
	var sd webauthn.SessionData
	if err := json.Unmarshal(ch.Session, &sd); err != nil {
		return nil, nil, fmt.Errorf("decode ceremony: %w", err)
	}
	return ch, &sd, nil
}

// registerBegin is POST /api/v1/account/register/begin. The body says
// whose passkey is being made:
//
//	{"name": "alice", "display_name": "Alice"}  a new account
//	{"setup_token": "…"}                          an account made by an operator (setup link)
//	{}                                             another passkey of the logged-in user
func (s *Service) registerBegin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name        string `json:"name"`
		DisplayName string `json:"display_name"`
		SetupToken  string `json:"setup_token"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	body.Name = strings.ToLower(strings.TrimSpace(body.Name))
	if !s.rateOK(w, r, body.Name) {
		return
	}
	rp, err := s.relyingParty(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_origin", err.Error())
		return
	}
	var ch model.Challenge
	var u *model.User
	p := FromContext(r.Context())
	switch {
	case body.SetupToken != "":
		link, err := s.setupLink(body.SetupToken)
		if err != nil {
			s.writeErr(w, err)
			return
		}
		if u, err = s.node.User(link.UserID); err != nil {
			s.writeErr(w, err)
			return
		}
		ch.UserID, ch.SetupID = u.ID, link.ID
	case body.Name != "":
		if !store.ValidName(body.Name) {
			writeError(w, http.StatusBadRequest, "bad_name", "a name has 2 to 32 lower-case letters, digits, '.', '-' or '_', starting with a letter or digit")
			return
		}
		if _, err := s.node.UserByName(body.Name); err == nil {
			writeError(w, http.StatusConflict, "name_taken", "the name "+body.Name+" is taken")
			return
		}
		display := strings.TrimSpace(body.DisplayName)
		if display == "" {
			display = body.Name
		}
		u = &model.User{ID: newID(), Name: body.Name, DisplayName: display, Role: model.RoleUser}
		ch.NewUser = u
	case p != nil && p.Session != nil:
		u, ch.UserID = p.User, p.User.ID
	default:
		writeError(w, http.StatusBadRequest, "bad_request", "give a name for a new account, or log in to add a passkey")
		return
	}
	wu, _, err := s.loadUser(u)
	if err != nil && ch.NewUser == nil {
		s.writeErr(w, err)
		return
	}
	if wu == nil {
		wu = &waUser{u: u}
	}
	// Existing passkeys are excluded, so an authenticator does not make a
	// second credential for the same account.
	creation, sd, err := rp.BeginRegistration(wu, webauthn.WithExclusions(webauthn.Credentials(wu.creds).CredentialDescriptors()))
	if err != nil {
		writeError(w, http.StatusBadRequest, "webauthn_failed", err.Error())
		return
	}
	id, err := s.putChallenge(r.Context(), model.ChallengeRegister, sd, ch)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ceremony": id, "options": creation})
}

// registerFinish is POST /api/v1/account/register/finish?ceremony=ID with
// the browser's credential as the body (and ?name= for the passkey's
// label). It makes the account if the ceremony began one, records the
// passkey and logs the browser in.
func (s *Service) registerFinish(w http.ResponseWriter, r *http.Request) {
	if !s.rateOK(w, r, "") {
		return
	}
	rp, err := s.relyingParty(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_origin", err.Error())
		return
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "webauthn_failed", "the credential cannot be read: "+webauthnDetail(err))
		return
	}
	ch, sd, err := s.takeChallenge(r.Context(), r.URL.Query().Get("ceremony"), model.ChallengeRegister)
	if err != nil {
		s.writeChallengeErr(w, err)
		return
	}
	u := ch.NewUser
	if u == nil {
		if u, err = s.node.User(ch.UserID); err != nil {
			s.writeErr(w, err)
			return
		}
		// Adding a passkey to an existing account needs that account's
		// session, or its setup link.
		if p := FromContext(r.Context()); ch.SetupID == "" && (p == nil || p.User.ID != u.ID) {
			writeError(w, http.StatusForbidden, "forbidden", "log in as "+u.Name+" to add a passkey")
			return
		}
	}
	wu, _, err := s.loadUser(u)
	if err != nil && ch.NewUser == nil {
		s.writeErr(w, err)
		return
	}
	if wu == nil {
		wu = &waUser{u: u}
	}
	cred, err := rp.CreateCredential(wu, *sd, parsed)
	if err != nil {
		writeError(w, http.StatusBadRequest, "webauthn_failed", "the passkey was refused: "+webauthnDetail(err))
		return
	}
	ctx := r.Context()
	if ch.SetupID != "" {
		if _, err := s.node.Apply(ctx, &command.ConsumeSetupLink{Stamp: s.stamp(), ID: ch.SetupID}); err != nil {
			s.writeChallengeErr(w, err)
			return
		}
	}
	if ch.NewUser != nil {
		if _, err := s.node.Apply(ctx, &command.CreateUser{Stamp: s.stamp(), User: *ch.NewUser}); err != nil {
			if errors.Is(err, store.ErrExists) {
				writeError(w, http.StatusConflict, "name_taken", "the name "+u.Name+" was taken meanwhile")
				return
			}
			s.writeErr(w, err)
			return
		}
	}
	pk := fromCredential(cred, u.ID, passkeyName(r))
	if _, err := s.node.Apply(ctx, &command.AddPasskey{Stamp: s.stamp(), Passkey: pk}); err != nil {
		s.writeErr(w, err)
		return
	}
	if p := FromContext(ctx); p != nil && p.User.ID == u.ID {
		writeJSON(w, http.StatusOK, map[string]any{"passkey": passkeyView(&pk)})
		return
	}
	s.startSession(w, r, u)
}

func passkeyName(r *http.Request) string {
	name := strings.TrimSpace(r.URL.Query().Get("name"))
	if len(name) > 64 {
		name = name[:64]
	}
	if name == "" {
		name = "Passkey"
	}
	return name
}

func fromCredential(c *webauthn.Credential, userID, name string) model.Passkey {
	transports := make([]string, 0, len(c.Transport))
	for _, t := range c.Transport {
		transports = append(transports, string(t))
	}
	return model.Passkey{
		ID: base64.RawURLEncoding.EncodeToString(c.ID), UserID: userID, Name: name,
		PublicKey: c.PublicKey, SignCount: c.Authenticator.SignCount, AAGUID: c.Authenticator.AAGUID,
		AttestationType: c.AttestationType, AttestationFormat: c.AttestationFormat, Transports: transports,
		UserVerified: c.Flags.UserVerified, BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState,
	}
}

// loginBegin is POST /api/v1/account/login/begin: {"name": "alice"} for a
// login by name, {} for a discoverable one (the browser offers the
// passkeys it holds for this site).
func (s *Service) loginBegin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	body.Name = strings.ToLower(strings.TrimSpace(body.Name))
	if !s.rateOK(w, r, body.Name) {
		return
	}
	rp, err := s.relyingParty(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_origin", err.Error())
		return
	}
	var ch model.Challenge
	var assertion *protocol.CredentialAssertion
	var sd *webauthn.SessionData
	if body.Name != "" {
		u, err := s.node.UserByName(body.Name)
		if err != nil {
			// Same answer as a wrong passkey: names are public anyway
			// (they own videos), but there is no need to help.
			writeError(w, http.StatusUnauthorized, "login_failed", "no passkey of that account can log in here")
			return
		}
		wu, _, err := s.loadUser(u)
		if err != nil {
			s.writeErr(w, err)
			return
		}
		if len(wu.creds) == 0 {
			writeError(w, http.StatusUnauthorized, "login_failed", "no passkey of that account can log in here")
			return
		}
		ch.UserID = u.ID
		assertion, sd, err = rp.BeginLogin(wu)
		if err != nil {
			writeError(w, http.StatusBadRequest, "webauthn_failed", err.Error())
			return
		}
	} else {
		assertion, sd, err = rp.BeginDiscoverableLogin()
		if err != nil {
			writeError(w, http.StatusBadRequest, "webauthn_failed", err.Error())
			return
		}
	}
	id, err := s.putChallenge(r.Context(), model.ChallengeLogin, sd, ch)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ceremony": id, "options": assertion})
}

// loginFinish is POST /api/v1/account/login/finish?ceremony=ID with the
// browser's assertion as the body.
func (s *Service) loginFinish(w http.ResponseWriter, r *http.Request) {
	if !s.rateOK(w, r, "") {
		return
	}
	rp, err := s.relyingParty(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_origin", err.Error())
		return
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "webauthn_failed", "the assertion cannot be read: "+webauthnDetail(err))
		return
	}
	ch, sd, err := s.takeChallenge(r.Context(), r.URL.Query().Get("ceremony"), model.ChallengeLogin)
	if err != nil {
		s.writeChallengeErr(w, err)
		return
	}
	credID := base64.RawURLEncoding.EncodeToString(parsed.RawID)
	pk, err := s.node.Passkey(credID)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "login_failed", "this passkey is not known here")
		return
	}
	if ch.UserID != "" && pk.UserID != ch.UserID {
		writeError(w, http.StatusUnauthorized, "login_failed", "this passkey belongs to another account")
		return
	}
	if pk.Cloned {
		writeError(w, http.StatusForbidden, "passkey_flagged", "this passkey was flagged as possibly cloned; log in with another and remove it")
		return
	}
	u, err := s.node.User(pk.UserID)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if u.Disabled {
		writeError(w, http.StatusForbidden, "account_disabled", ErrDisabled.Error())
		return
	}
	wu, _, err := s.loadUser(u)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	var cred *webauthn.Credential
	if ch.UserID != "" {
		cred, err = rp.ValidateLogin(wu, *sd, parsed)
	} else {
		cred, err = rp.ValidateDiscoverableLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			if string(userHandle) != u.ID {
				return nil, errors.New("the user handle does not match the passkey's account")
			}
			return wu, nil
		}, *sd, parsed)
	}
	if err != nil {
		writeError(w, http.StatusUnauthorized, "login_failed", "the passkey was refused: "+webauthnDetail(err))
		return
	}
	// The store decides about the counter, against its latest value, so
	// two racing logins with one cloned key cannot both pass.
	v, err := s.node.Apply(r.Context(), &command.UsePasskey{Stamp: s.stamp(), ID: credID,
		SignCount: parsed.Response.AuthenticatorData.Counter, BackupState: cred.Flags.BackupState})
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if v.(*model.Passkey).Cloned || cred.Authenticator.CloneWarning {
		s.log.Warn("passkey sign counter went backwards: flagged as cloned", "user", u.Name, "passkey", credID)
		writeError(w, http.StatusForbidden, "passkey_flagged", "this passkey's sign counter went backwards, so a copy of it may exist; it is flagged and refused")
		return
	}
	s.startSession(w, r, u)
}

// webauthnDetail is go-webauthn's error with its details, which say which
// check failed (origin, RP ID hash, user presence, signature).
func webauthnDetail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.DevInfo != "" {
			return pe.Details + ": " + pe.DevInfo
		}
		return pe.Details
	}
	return err.Error()
}
