package command

import "github.com/stratavideo/strata/cluster/model"

// TypeAddQoE is the command type of AddQoE (views and discovery, 40-49).
const TypeAddQoE Type = 41

// AddQoE adds playback-quality sums, per video, edge and day, many at
// once: the node that receives player beacons adds them up for a second
// and proposes one entry. Each row is added to the stored row of its
// (day, video, edge).
type AddQoE struct {
	Stamp
	Rows []model.QoE `json:"rows"`
}

// CommandType implements Command.
func (AddQoE) CommandType() Type { return TypeAddQoE }

// CommandVersion implements Command.
func (AddQoE) CommandVersion() uint8 { return 1 }
