package command

// Level numbers the command sets that builds understand, so that a cluster
// can be upgraded one node at a time: a node proposes a command only when
// every member understands it, because a replica that meets an entry it
// cannot decode must stop (its state may not diverge). Raise Level when a
// build adds command types or versions, and say in LevelOf which ones.
const Level uint8 = 5

// BaselineLevel is what a node that reports no level understands: builds
// from before levels existed knew every command but the accounts'.
const BaselineLevel uint8 = 1

// LevelOf is the level that introduced commands of type t.
//
//	level 2: the accounts (types 50-69)
//	level 3: playback-quality sums (AddQoE)
//	level 4: fast first play (VideoPlayable), thumbnails (SetMediaInfo),
//	         chunked transcoding (EnqueueChunks, ChunkOutput)
//	level 4: captions (70-71)
//	level 5: the edge registry (80-81)
func LevelOf(t Type) uint8 {
	if t >= 80 && t < 90 { // edges
		return 5
	}
	if t == TypeVideoPlayable || t == TypeSetMediaInfo || t == TypeEnqueueChunks || t == TypeChunkOutput || t >= 70 && t < 80 { // first play, captions
		return 4
	}
	if t == TypeAddQoE {
		return 3
	}
	if t >= 50 && t < 70 { // accounts
		return 2
	}
	return BaselineLevel
}
