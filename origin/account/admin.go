package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	json "github.com/go-json-experiment/json/v1"

	"github.com/stratavideo/strata/cluster"
	"github.com/stratavideo/strata/cluster/command"
	"github.com/stratavideo/strata/cluster/mediatoken"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/cluster/store"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI serves account operations on Caddy's admin endpoint (which only
// the operator reaches), for `strata admin …`:
//
//	POST /strata/accounts/admins  {"name": "alice"}                 → {"user", "setup_link"}
//	POST /strata/accounts/admins  {"name": "alice", "token": true}  → {"user", "token"}
//	POST /strata/accounts/keys    {}                                → {"current", "keys"}: a new media signing key
//	POST /strata/accounts/keys    {"remove": "KEY_ID"}              → the ring without that (old) key
//
// The account is made as an admin if it does not exist; an existing admin
// gets a new setup link (a way back in after losing every passkey) or a
// new token. An existing account that is not an admin is refused: roles
// change through the API, by an admin.
type adminAPI struct {
	app *cluster.App
}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.strata_accounts",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Provision finds the strata app, if this config has one.
func (a *adminAPI) Provision(ctx caddy.Context) error {
	if v, err := ctx.AppIfConfigured("strata"); err == nil {
		a.app, _ = v.(*cluster.App)
	}
	return nil
}

// Routes implements caddy.AdminRouter.
func (a *adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/strata/accounts/", Handler: caddy.AdminHandlerFunc(a.serve)}}
}

// AdminCreated is the answer of POST /strata/accounts/admins.
type AdminCreated struct {
	User      UserView `json:"user"`
	SetupLink string   `json:"setup_link,omitempty"`
	Token     string   `json:"token,omitempty"`
}

func (a *adminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	if a.app == nil || a.app.Node() == nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: errors.New("this config runs no strata node")}
	}
	if strings.TrimSuffix(r.URL.Path, "/") == "/strata/accounts/keys" && r.Method == http.MethodPost {
		return a.keys(w, r)
	}
	if strings.TrimSuffix(r.URL.Path, "/") != "/strata/accounts/admins" || r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no such endpoint: %s %s", r.Method, r.URL.Path)}
	}
	var body struct {
		Name  string `json:"name"`
		Token bool   `json:"token"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&body); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("body: %w", err)}
	}
	svc, err := New(a.app.Node(), DefaultConfig())
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	out, err := svc.EnsureAdmin(ctx, strings.ToLower(strings.TrimSpace(body.Name)), body.Token)
	if err != nil {
		status := http.StatusInternalServerError
		switch {
		case errors.Is(err, store.ErrInvalid):
			status = http.StatusBadRequest
		case errors.Is(err, store.ErrExists):
			status = http.StatusConflict
		}
		return caddy.APIError{HTTPStatus: status, Err: err}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}

// KeyRing is the answer of POST /strata/accounts/keys: the key IDs, never
// the secrets.
type KeyRing struct {
	Current string   `json:"current"`
	Keys    []string `json:"keys"`
}

// keys rotates the media signing key (tokens signed with older keys keep
// verifying until those are removed) or removes an old key.
func (a *adminAPI) keys(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Remove string `json:"remove"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&body); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("body: %w", err)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	stamp := command.Stamp{At: time.Now().UTC()}
	var c command.Command = &command.RotateSigningKey{Stamp: stamp, Key: mediatoken.NewKey()}
	if body.Remove != "" {
		c = &command.RemoveSigningKey{Stamp: stamp, ID: body.Remove}
	}
	v, err := a.app.Node().Apply(ctx, c)
	if err != nil {
		status := http.StatusInternalServerError
		switch {
		case errors.Is(err, store.ErrInvalid):
			status = http.StatusBadRequest
		case errors.Is(err, store.ErrNotFound):
			status = http.StatusNotFound
		}
		return caddy.APIError{HTTPStatus: status, Err: err}
	}
	ring := v.(*model.SigningKeys)
	out := KeyRing{Current: ring.Current}
	for _, k := range ring.Keys {
		out.Keys = append(out.Keys, k.ID)
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}

// EnsureAdmin makes name an admin account if it does not exist and returns
// a setup link for a passkey, or (withToken) a new admin-scoped API token.
func (s *Service) EnsureAdmin(ctx context.Context, name string, withToken bool) (*AdminCreated, error) {
	u, err := s.node.UserByName(name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		var link string
		u, link, err = s.CreateAdmin(ctx, name, false)
		if err != nil {
			return nil, err
		}
		if !withToken {
			return &AdminCreated{User: userView(u), SetupLink: link}, nil
		}
	case err != nil:
		return nil, err
	case u.Role != model.RoleAdmin:
		return nil, fmt.Errorf("%s is a %s, not an admin; an admin can change that: %w", name, u.Role, store.ErrExists)
	case !withToken:
		link, err := s.NewSetupLink(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		return &AdminCreated{User: userView(u), SetupLink: link}, nil
	}
	_, secret, err := s.NewToken(ctx, u.ID, "strata admin create", []model.Scope{model.ScopeAdmin})
	if err != nil {
		return nil, err
	}
	return &AdminCreated{User: userView(u), Token: secret}, nil
}

// Interface guards
var (
	_ caddy.Provisioner = (*adminAPI)(nil)
	_ caddy.AdminRouter = (*adminAPI)(nil)
)
