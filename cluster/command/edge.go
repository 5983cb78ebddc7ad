package command

import "github.com/stratavideo/strata/cluster/model"

// Edge registry commands (types 80-89, level 5). An edge node proposes
// its own entry when its role starts and whenever its options change.
const (
	TypeSetEdge    Type = 80
	TypeRemoveEdge Type = 81
)

// SetEdge records or replaces an edge's delivery entry.
type SetEdge struct {
	Stamp
	Edge model.Edge `json:"edge"`
}

// RemoveEdge drops an edge's delivery entry: its role no longer has a
// public URL, so no viewer should be sent there.
type RemoveEdge struct {
	Stamp
	ID string `json:"id"`
}

// CommandType implements Command.
func (SetEdge) CommandType() Type { return TypeSetEdge }

// CommandVersion implements Command.
func (SetEdge) CommandVersion() uint8 { return 1 }

// CommandType implements Command.
func (RemoveEdge) CommandType() Type { return TypeRemoveEdge }

// CommandVersion implements Command.
func (RemoveEdge) CommandVersion() uint8 { return 1 }
