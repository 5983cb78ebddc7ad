// Package account is the origin's accounts: WebAuthn passkeys (and an
// optional password), server-side sessions behind an HttpOnly cookie, CSRF
// protection for cookie-authenticated writes, scoped API tokens, rate
// limits, and the /api/v1/account/ endpoints.
//
// Every record lives in the replicated store, so any node authenticates
// any request, and a ceremony begun on one node may finish on another.
// The package is a library for the strata_api handler, which mounts its
// routes and asks it who a request is (Authenticate) and whether a write
// may proceed (CheckCSRF).
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/mediatoken"
	"github.com/stratavideo/strata/cluster/model"
)

// Node is what accounts need of the cluster: replicated writes and local
// reads. *cluster.Node is one.
type Node interface {
	Apply(ctx context.Context, c command.Command) (any, error)
	User(id string) (*model.User, error)
	UserByName(name string) (*model.User, error)
	Users() ([]*model.User, error)
	HasUsers() (bool, error)
	Passkey(id string) (*model.Passkey, error)
	Passkeys(userID string) ([]*model.Passkey, error)
	Session(id string) (*model.Session, error)
	Sessions(userID string) ([]*model.Session, error)
	TokenByHash(hash string) (*model.APIToken, error)
	Tokens(userID string) ([]*model.APIToken, error)
	SigningKeys() (*model.SigningKeys, error)
	VideosOf(owner string, limit int) ([]*model.Video, error)
	Video(id string) (*model.Video, error)
	SetupLink(id string) (*model.SetupLink, error)
}

// Names of the cookie and headers the browser deals in.
const (
	// CookieName holds the session secret. The __Host- prefix is left out
	// so plain http://localhost keeps working in development.
	CookieName = "strata_session"
	// CSRFHeader carries the session's CSRF token on cookie writes.
	CSRFHeader = "X-CSRF-Token"
	// tokenPrefix marks API token secrets, so a leaked one is recognisable
	// (and greppable) as Strata's.
	tokenPrefix = "strata_"
)

// Config tunes a Service.
type Config struct {
	// RPID is the WebAuthn relying party ID (a registrable domain). Empty:
	// the host of each request, which suits development on localhost.
	RPID string
	// Origins are the origins allowed in WebAuthn responses and in the
	// Origin header of cookie writes. Empty: the request's own origin.
	Origins []string
	// RPName is the name browsers show in their passkey dialogs.
	RPName string
	// PasswordLogin turns on the password fallback.
	PasswordLogin bool
	// SessionTTL is how long a login lasts.
	SessionTTL time.Duration
	// SetupTTL is how long a setup link works.
	SetupTTL time.Duration
	// Now is the clock; tests replace it.
	Now    func() time.Time
	Logger *slog.Logger
}

// DefaultConfig is what a node uses.
func DefaultConfig() Config {
	return Config{RPName: "Strata", SessionTTL: 30 * 24 * time.Hour, SetupTTL: 24 * time.Hour, Now: time.Now}
}

// Service authenticates requests and serves the account endpoints.
type Service struct {
	node   Node
	cfg    Config
	log    *slog.Logger
	tokens *mediatoken.Verifier
	limits *limits
}

// New makes a Service over node.
func New(node Node, cfg Config) (*Service, error) {
	def := DefaultConfig()
	if cfg.Now == nil {
		cfg.Now = def.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = def.SessionTTL
	}
	if cfg.SetupTTL <= 0 {
		cfg.SetupTTL = def.SetupTTL
	}
	if cfg.RPName == "" {
		cfg.RPName = def.RPName
	}
	for _, o := range cfg.Origins {
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			return nil, fmt.Errorf("origin %q: want scheme://host[:port]", o)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v := mediatoken.NewVerifier(node)
	v.Now = cfg.Now
	return &Service{node: node, cfg: cfg, log: log, tokens: v, limits: newLimits(cfg.Now)}, nil
}

// Principal is who a request acts as: a user through a session cookie or
// through an API token.
type Principal struct {
	User    *model.User
	Session *model.Session  // set for cookie logins
	Token   *model.APIToken // set for Bearer tokens
	// secret is the session cookie's secret, from which the CSRF token
	// is derived.
	secret string
}

// Allows reports whether the principal's credential grants scope. A
// session grants everything its user's role allows.
func (p *Principal) Allows(s model.Scope) bool {
	if p == nil {
		return false
	}
	if p.Token != nil {
		return p.Token.Has(s)
	}
	return true
}

// IsAdmin reports whether the principal acts with admin rights.
func (p *Principal) IsAdmin() bool {
	return p != nil && p.User.Role == model.RoleAdmin && p.Allows(model.ScopeAdmin)
}

// IsStaff reports whether the principal may manage others' videos.
func (p *Principal) IsStaff() bool {
	return p != nil && p.User.Role.Staff() && p.Allows(model.ScopeUpload)
}

// CanSee reports whether p may see v when v is private: its owner and
// admins may.
func (p *Principal) CanSee(v *model.Video) bool {
	if v.Visibility != model.Private {
		return true
	}
	return p != nil && (v.Owner != "" && v.Owner == p.User.ID || p.User.Role == model.RoleAdmin)
}

// CanEdit reports whether p may change or delete v: its owner, moderators
// and admins, with a credential that allows uploads.
func (p *Principal) CanEdit(v *model.Video) bool {
	if p == nil || !p.Allows(model.ScopeUpload) {
		return false
	}
	return v.Owner != "" && v.Owner == p.User.ID || p.User.Role.Staff()
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of a request, or nil for anonymous.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Errors of Authenticate.
var (
	// ErrBadToken: a Bearer token that is not (or no longer) valid. A
	// request that presents a bad token is refused, not served as
	// anonymous, so a script notices its revoked token.
	ErrBadToken = errors.New("the API token is not valid")
	// ErrDisabled: the account is disabled.
	ErrDisabled = errors.New("the account is disabled")
	// ErrRateLimited: too many attempts.
	ErrRateLimited = errors.New("too many attempts; wait a little")
)

// Authenticate finds who r acts as: nil (anonymous) when it carries no
// credential or a session cookie that has ended.
func (s *Service) Authenticate(r *http.Request) (*Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, ErrBadToken
		}
		return s.authToken(r, strings.TrimSpace(secret))
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, err := s.node.Session(hashHex(c.Value))
	if err != nil || !s.cfg.Now().Before(sess.ExpiresAt) {
		return nil, nil
	}
	u, err := s.node.User(sess.UserID)
	if err != nil || u.Disabled {
		return nil, nil
	}
	return &Principal{User: u, Session: sess, secret: c.Value}, nil
}

func (s *Service) authToken(r *http.Request, secret string) (*Principal, error) {
	ip := clientIP(r)
	if !s.limits.tokenIP.peek(ip) {
		return nil, ErrRateLimited
	}
	tok, err := s.node.TokenByHash(hashHex(secret))
	if err != nil || !strings.HasPrefix(secret, tokenPrefix) {
		// Only failures spend the budget: a script with a good token
		// is never slowed down, a guesser is.
		s.limits.tokenIP.allow(ip)
		return nil, ErrBadToken
	}
	u, err := s.node.User(tok.UserID)
	if err != nil {
		return nil, ErrBadToken
	}
	if u.Disabled {
		return nil, ErrDisabled
	}
	s.touchToken(tok)
	return &Principal{User: u, Token: tok}, nil
}

// touchToken records a token's use at most once an hour, off the request.
func (s *Service) touchToken(tok *model.APIToken) {
	now := s.cfg.Now()
	if now.Sub(tok.LastUsedAt) < time.Hour {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.node.Apply(ctx, &command.TouchToken{Stamp: command.Stamp{At: now.UTC()}, ID: tok.ID}); err != nil {
			s.log.Debug("record token use", "token", tok.ID, "error", err)
		}
	}()
}

// ErrCSRF is CheckCSRF's refusal.
var ErrCSRF = errors.New("cross-site request refused")

// CheckCSRF refuses a cookie-authenticated write that may come from
// another site: the browser's Sec-Fetch-Site must not say cross-site, an
// Origin header must be an allowed origin, and the CSRF header must carry
// the session's token (which a page of another site cannot read). Reads,
// anonymous requests and Bearer-token requests pass: a browser never
// attaches a Bearer token on its own.
func (s *Service) CheckCSRF(r *http.Request, p *Principal) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if p == nil || p.Session == nil {
		// A request carrying a cookie that did not authenticate is
		// anonymous and may do only what anyone may.
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fmt.Errorf("%w: Sec-Fetch-Site is %s", ErrCSRF, site)
	}
	if o := r.Header.Get("Origin"); o != "" && !s.originAllowed(r, o) {
		return fmt.Errorf("%w: origin %s", ErrCSRF, o)
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(csrfToken(p.secret))) != 1 {
		return fmt.Errorf("%w: missing or wrong %s header", ErrCSRF, CSRFHeader)
	}
	return nil
}

// csrfToken derives a session's CSRF token from its cookie secret: the
// server needs to keep nothing more, and the token dies with the session.
func csrfToken(secret string) string {
	sum := sha256.Sum256([]byte("strata-csrf\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CSRFToken is the token the page must send back in CSRFHeader, or "".
func (p *Principal) CSRFToken() string {
	if p == nil || p.Session == nil {
		return ""
	}
	return csrfToken(p.secret)
}

// rpID is the relying party ID for r.
func (s *Service) rpID(r *http.Request) string {
	if s.cfg.RPID != "" {
		return s.cfg.RPID
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.Trim(host, "[]")
}

// origins are the allowed origins for r.
func (s *Service) origins(r *http.Request) []string {
	if len(s.cfg.Origins) > 0 {
		return s.cfg.Origins
	}
	return []string{requestOrigin(r)}
}

func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Service) originAllowed(r *http.Request, origin string) bool {
	for _, o := range s.origins(r) {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// newSecret returns n random bytes in base64url.
func newSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}

// newID returns a short random ID for records.
func newID() string { return newSecret(12) }

// hashHex is how secrets are kept: their SHA-256. The secrets are 256
// random bits, so a fast hash is enough; a slow one is for passwords.
func hashHex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// clientIP is the address rate limits count by: Caddy has already
// resolved trusted proxies into RemoteAddr's place when configured.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Service) stamp() command.Stamp { return command.Stamp{At: s.cfg.Now().UTC()} }
