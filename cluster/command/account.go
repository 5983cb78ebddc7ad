package command

import "github.com/stratavideo/strata/cluster/model"

// Account command types. Types 50-69 belong to accounts and access.
const (
	TypeCreateUser       Type = 50
	TypeUpdateUser       Type = 51
	TypeAddPasskey       Type = 52
	TypeUsePasskey       Type = 53
	TypeDeletePasskey    Type = 54
	TypeCreateSession    Type = 55
	TypeDeleteSession    Type = 56
	TypeCreateToken      Type = 57
	TypeDeleteToken      Type = 58
	TypeTouchToken       Type = 59
	TypePutChallenge     Type = 60
	TypeConsumeChallenge Type = 61
	TypeRotateSigningKey Type = 62
	TypeRemoveSigningKey Type = 63
	TypeCreateSetupLink  Type = 64
	TypeConsumeSetupLink Type = 65
)

// CreateUser adds an account. The name must be free. With FirstAdmin the
// command only succeeds while the store has no user at all, so two nodes
// starting at once cannot both make a first admin.
type CreateUser struct {
	Stamp
	User       model.User `json:"user"`
	FirstAdmin bool       `json:"first_admin,omitempty"`
}

// UpdateUser changes what an admin (or the user) may change; nil fields are
// left alone.
type UpdateUser struct {
	Stamp
	ID               string      `json:"id"`
	DisplayName      *string     `json:"display_name,omitempty"`
	Role             *model.Role `json:"role,omitempty"`
	Disabled         *bool       `json:"disabled,omitempty"`
	StorageQuota     *int64      `json:"storage_quota,omitempty"`
	DailyUploadQuota *int64      `json:"daily_upload_quota,omitempty"`
	PasswordHash     *string     `json:"password_hash,omitempty"`
}

// AddPasskey records a registered credential.
type AddPasskey struct {
	Stamp
	Passkey model.Passkey `json:"passkey"`
}

// UsePasskey records a successful assertion: the new sign count, the
// backup state, the time. A sign count that does not move forward (when
// either count is non-zero) flags the passkey as cloned instead; the
// result says so and the caller refuses the login.
type UsePasskey struct {
	Stamp
	ID          string `json:"id"`
	SignCount   uint32 `json:"sign_count"`
	BackupState bool   `json:"backup_state"`
}

// DeletePasskey removes one of a user's passkeys.
type DeletePasskey struct {
	Stamp
	UserID string `json:"user_id"`
	ID     string `json:"id"`
}

// CreateSession records a login.
type CreateSession struct {
	Stamp
	Session model.Session `json:"session"`
}

// DeleteSession ends a session (logout, revoke). With UserID set it only
// deletes a session of that user.
type DeleteSession struct {
	Stamp
	ID     string `json:"id"`
	UserID string `json:"user_id,omitempty"`
}

// CreateToken records an API token.
type CreateToken struct {
	Stamp
	Token model.APIToken `json:"token"`
}

// DeleteToken revokes an API token of a user.
type DeleteToken struct {
	Stamp
	ID     string `json:"id"`
	UserID string `json:"user_id"`
}

// TouchToken records that a token was used (at Stamp.At). Callers throttle
// it, so the log does not grow by one entry per API call.
type TouchToken struct {
	Stamp
	ID string `json:"id"`
}

// PutChallenge stores a WebAuthn ceremony in progress. Challenges that
// expired before Stamp.At are swept in the same transaction.
type PutChallenge struct {
	Stamp
	Challenge model.Challenge `json:"challenge"`
}

// ConsumeChallenge takes a challenge for the ceremony's finish. It fails
// when the challenge is unknown, already used, expired at Stamp.At, or of
// another kind.
type ConsumeChallenge struct {
	Stamp
	ID   string              `json:"id"`
	Kind model.ChallengeKind `json:"kind"`
}

// RotateSigningKey makes Key the current media signing key; older keys
// keep verifying until removed.
type RotateSigningKey struct {
	Stamp
	Key model.SigningKey `json:"key"`
	// OnlyIfNone makes the command a no-op when a key exists already: what
	// a node proposes at start so the cluster has a key.
	OnlyIfNone bool `json:"only_if_none,omitempty"`
}

// RemoveSigningKey drops an old key; the current key cannot be removed.
type RemoveSigningKey struct {
	Stamp
	ID string `json:"id"`
}

// CreateSetupLink records a one-time passkey setup link for a user.
type CreateSetupLink struct {
	Stamp
	Link model.SetupLink `json:"link"`
}

// ConsumeSetupLink redeems a setup link; it fails when unknown, used or
// expired at Stamp.At.
type ConsumeSetupLink struct {
	Stamp
	ID string `json:"id"`
}

// CommandType implements Command.
func (CreateUser) CommandType() Type { return TypeCreateUser }

// CommandType implements Command.
func (UpdateUser) CommandType() Type { return TypeUpdateUser }

// CommandType implements Command.
func (AddPasskey) CommandType() Type { return TypeAddPasskey }

// CommandType implements Command.
func (UsePasskey) CommandType() Type { return TypeUsePasskey }

// CommandType implements Command.
func (DeletePasskey) CommandType() Type { return TypeDeletePasskey }

// CommandType implements Command.
func (CreateSession) CommandType() Type { return TypeCreateSession }

// CommandType implements Command.
func (DeleteSession) CommandType() Type { return TypeDeleteSession }

// CommandType implements Command.
func (CreateToken) CommandType() Type { return TypeCreateToken }

// CommandType implements Command.
func (DeleteToken) CommandType() Type { return TypeDeleteToken }

// CommandType implements Command.
func (TouchToken) CommandType() Type { return TypeTouchToken }

// CommandType implements Command.
func (PutChallenge) CommandType() Type { return TypePutChallenge }

// CommandType implements Command.
func (ConsumeChallenge) CommandType() Type { return TypeConsumeChallenge }

// CommandType implements Command.
func (RotateSigningKey) CommandType() Type { return TypeRotateSigningKey }

// CommandType implements Command.
func (RemoveSigningKey) CommandType() Type { return TypeRemoveSigningKey }

// CommandType implements Command.
func (CreateSetupLink) CommandType() Type { return TypeCreateSetupLink }

// CommandType implements Command.
func (ConsumeSetupLink) CommandType() Type { return TypeConsumeSetupLink }

// CommandVersion implements Command.
func (CreateUser) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (UpdateUser) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (AddPasskey) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (UsePasskey) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (DeletePasskey) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (CreateSession) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (DeleteSession) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (CreateToken) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (DeleteToken) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (TouchToken) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (PutChallenge) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (ConsumeChallenge) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (RotateSigningKey) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (RemoveSigningKey) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (CreateSetupLink) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (ConsumeSetupLink) CommandVersion() uint8 { return 1 }
