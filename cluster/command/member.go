package command

import "github.com/stratavideo/strata/cluster/model"

// RegisterMember records (or updates) a node in the member registry.
type RegisterMember struct {
	Stamp
	Member model.Member `json:"member"`
}

// RemoveMember drops a node from the member registry.
type RemoveMember struct {
	Stamp
	ID string `json:"id"`
}

// CommandType implements Command.
func (RegisterMember) CommandType() Type { return TypeRegisterMember }

// CommandType implements Command.
func (RemoveMember) CommandType() Type { return TypeRemoveMember }

// CommandVersion implements Command.
func (RegisterMember) CommandVersion() uint8 { return 1 }

// CommandVersion implements Command.
func (RemoveMember) CommandVersion() uint8 { return 1 }
