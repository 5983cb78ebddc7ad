package model

import "time"

// Role is what an account may do beyond its own videos.
type Role string

// Roles. Admins manage accounts and everything else; moderators may edit
// and delete anyone's videos; users manage their own.
const (
	RoleAdmin     Role = "admin"
	RoleModerator Role = "moderator"
	RoleUser      Role = "user"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleModerator || r == RoleUser }

// Staff reports whether r may manage other people's videos.
func (r Role) Staff() bool { return r == RoleAdmin || r == RoleModerator }

// User is an account. Name is the unique lower-case handle people type and
// see in URLs; ID never changes and is the WebAuthn user handle, so a
// passkey keeps working when a handle is renamed.
type User struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Role        Role   `json:"role"`
	Disabled    bool   `json:"disabled,omitempty"`
	// StorageQuota bounds the bytes of uploads the user keeps; 0 is no limit.
	StorageQuota int64 `json:"storage_quota"`
	// DailyUploadQuota bounds the bytes uploaded per UTC day; 0 is no limit.
	DailyUploadQuota int64 `json:"daily_upload_quota"`
	// StorageUsed is the sum of the sizes of the user's videos, kept by the
	// store as videos come and go.
	StorageUsed int64 `json:"storage_used"`
	// UploadDay (YYYY-MM-DD, UTC) and UploadedToday count the day's uploads
	// for the daily quota. Deleting a video does not give the day back.
	UploadDay     string `json:"upload_day,omitempty"`
	UploadedToday int64  `json:"uploaded_today,omitempty"`
	// PasswordHash is an argon2id hash in the PHC string format, or empty
	// for a passkey-only account.
	PasswordHash string    `json:"password_hash,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Passkey is one WebAuthn credential of a user.
type Passkey struct {
	// ID is the credential ID, base64url without padding.
	ID        string `json:"id"`
	UserID    string `json:"user_id"`
	Name      string `json:"name"`
	PublicKey []byte `json:"public_key"`
	SignCount uint32 `json:"sign_count"`
	AAGUID    []byte `json:"aaguid,omitempty"`
	// AttestationType and AttestationFormat are kept as registered, for a
	// later check against authenticator metadata.
	AttestationType   string   `json:"attestation_type,omitempty"`
	AttestationFormat string   `json:"attestation_format,omitempty"`
	Transports        []string `json:"transports,omitempty"`
	UserVerified      bool     `json:"user_verified,omitempty"`
	BackupEligible    bool     `json:"backup_eligible,omitempty"`
	BackupState       bool     `json:"backup_state,omitempty"`
	// Cloned is set when an assertion came with a sign count not above the
	// stored one: two copies of the key may exist. A cloned passkey logs
	// nobody in until its owner removes it and registers a new one.
	Cloned     bool      `json:"cloned,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Session is a logged-in browser. ID is the hex SHA-256 of the cookie's
// secret, so a copy of the store does not hold usable cookies.
type Session struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	UserAgent string    `json:"user_agent,omitempty"`
	IP        string    `json:"ip,omitempty"`
	// CSRFHash is the hex SHA-256 of the session's CSRF token, which the
	// page reads from /api/v1/account/me and sends back in a header.
	CSRFHash string `json:"csrf_hash"`
}

// Scope is what an API token may do.
type Scope string

// Scopes. Read sees what its user sees; upload also uploads and edits the
// user's videos; admin may do everything the user's role allows.
const (
	ScopeRead   Scope = "read"
	ScopeUpload Scope = "upload"
	ScopeAdmin  Scope = "admin"
)

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return s == ScopeRead || s == ScopeUpload || s == ScopeAdmin }

// APIToken is a named, scoped credential for scripts. Only the hex SHA-256
// of the secret is kept; the secret is shown once, when made.
type APIToken struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Name       string    `json:"name"`
	Scopes     []Scope   `json:"scopes"`
	Hash       string    `json:"hash"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Has reports whether the token grants s. Admin includes upload, and
// upload includes read.
func (t *APIToken) Has(s Scope) bool {
	for _, have := range t.Scopes {
		switch {
		case have == s, have == ScopeAdmin, have == ScopeUpload && s == ScopeRead:
			return true
		}
	}
	return false
}

// ChallengeKind says which ceremony a challenge belongs to.
type ChallengeKind string

// Challenge kinds.
const (
	ChallengeRegister ChallengeKind = "register"
	ChallengeLogin    ChallengeKind = "login"
)

// ChallengeLifetime is how long a WebAuthn challenge may be answered.
const ChallengeLifetime = 5 * time.Minute

// Challenge is a WebAuthn ceremony in progress, kept in the replicated
// store so that begin and finish may reach different nodes. It is single
// use: consuming it marks it used, and a second consume fails.
type Challenge struct {
	// ID is the hex SHA-256 of the challenge bytes' base64url form.
	ID   string        `json:"id"`
	Kind ChallengeKind `json:"kind"`
	// Session is go-webauthn's SessionData as JSON.
	Session []byte `json:"session"`
	// UserID is set when the ceremony is for a known account (adding a
	// passkey, a login by name); NewUser holds the account a registration
	// creates; SetupID names the setup link a registration redeems.
	UserID    string    `json:"user_id,omitempty"`
	NewUser   *User     `json:"new_user,omitempty"`
	SetupID   string    `json:"setup_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	UsedAt    time.Time `json:"used_at,omitzero"`
}

// SetupLink lets whoever holds it add the first passkey to an account made
// by an operator (`strata admin create`, or the first start of a node).
// ID is the hex SHA-256 of the link's secret; the link is single use.
type SetupLink struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	UsedAt    time.Time `json:"used_at,omitzero"`
}

// SigningKey is an HMAC key for private-media tokens.
type SigningKey struct {
	ID        string    `json:"id"`
	Secret    []byte    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
}

// SigningKeys is the key ring: Current signs, every key verifies, so a
// rotation does not break the tokens already handed out.
type SigningKeys struct {
	Current string       `json:"current"`
	Keys    []SigningKey `json:"keys"`
}

// Key returns the key with id, or nil.
func (k *SigningKeys) Key(id string) *SigningKey {
	for i := range k.Keys {
		if k.Keys[i].ID == id {
			return &k.Keys[i]
		}
	}
	return nil
}
