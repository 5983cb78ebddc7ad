package command

// TypeAddViews is the command type of AddViews. Types 40-49 belong to views
// and discovery.
const TypeAddViews Type = 40

// AddViews adds views to videos, many at once. Whoever counts plays (the
// player beacons of issue 9) adds them up for a while and proposes one
// entry, so the log grows by one entry per interval, not one per play. The
// views are counted in the hour of Stamp.At.
type AddViews struct {
	Stamp
	Views []VideoViews `json:"views"`
}

// VideoViews is a number of new views of one video.
type VideoViews struct {
	ID string `json:"id"`
	N  int64  `json:"n"`
}

// CommandType implements Command.
func (AddViews) CommandType() Type { return TypeAddViews }

// CommandVersion implements Command.
func (AddViews) CommandVersion() uint8 { return 1 }
