// Package command defines the typed, versioned commands that change the
// replicated state, and their wire encoding in the Raft log.
//
// An entry is one byte of Type, one byte of version, then the command's JSON.
// The version lets a newer node read what an older one wrote: a decoder is
// registered per (type, version) and upgrades old shapes to the current one.
// Nodes only propose the versions every member understands, so a log never
// holds an entry some replica cannot apply.
package command

import (
	"errors"
	"fmt"
	"time"

	json "github.com/go-json-experiment/json/v1"
)

// Type identifies a command in the log. Values are part of the on-disk format:
// never renumber or reuse one.
type Type uint8

// Command types.
const (
	TypeCreateVideo    Type = 1
	TypeUpdateVideo    Type = 2
	TypeVideoReady     Type = 3
	TypeVideoFailed    Type = 4
	TypeDeleteVideo    Type = 5
	TypeUpdateProgress Type = 6
	TypeRecordReplica  Type = 7
	TypeVideoPlayable  Type = 8
	TypeSetMediaInfo   Type = 9
	TypeEnqueueJob     Type = 20
	TypeClaimJob       Type = 21
	TypeRenewLease     Type = 22
	TypeCompleteJob    Type = 23
	TypeFailJob        Type = 24
	TypeRetryJob       Type = 25
	TypeEnqueueChunks  Type = 26
	TypeChunkOutput    Type = 27
	TypeRegisterMember Type = 30
	TypeRemoveMember   Type = 31
)

// Command is anything that can be put in the log.
type Command interface {
	// CommandType is the log tag of this command.
	CommandType() Type
	// CommandVersion is the shape version this value encodes as.
	CommandVersion() uint8
}

// ErrUnknown is returned when an entry's type or version has no decoder.
var ErrUnknown = errors.New("unknown command")

// headerLen is the type and version bytes before the payload.
const headerLen = 2

// Encode turns c into a log entry.
func Encode(c Command) ([]byte, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", c, err)
	}
	out := make([]byte, headerLen, headerLen+len(payload))
	out[0] = byte(c.CommandType())
	out[1] = c.CommandVersion()
	return append(out, payload...), nil
}

// decoder reads one (type, version) payload into a current-shape command.
type decoder func(payload []byte) (Command, error)

type key struct {
	t Type
	v uint8
}

// jsonDecoder makes the decoder of a command whose current shape is T.
func jsonDecoder[T any, P interface {
	*T
	Command
}]() decoder {
	return func(payload []byte) (Command, error) {
		var v T
		if err := json.Unmarshal(payload, &v); err != nil {
			return nil, err
		}
		return P(&v), nil
	}
}

// decoders is the dispatch table from (type, version) to a decoder. It is
// built once and never changed, so it is safe to share.
var decoders = map[key]decoder{
	{TypeCreateVideo, 1}:      jsonDecoder[CreateVideo](),
	{TypeUpdateVideo, 1}:      jsonDecoder[UpdateVideo](),
	{TypeVideoReady, 1}:       jsonDecoder[VideoReady](),
	{TypeVideoPlayable, 1}:    jsonDecoder[VideoPlayable](),
	{TypeEnqueueChunks, 1}:    jsonDecoder[EnqueueChunks](),
	{TypeChunkOutput, 1}:      jsonDecoder[ChunkOutput](),
	{TypeSetMediaInfo, 1}:     jsonDecoder[SetMediaInfo](),
	{TypeVideoFailed, 1}:      jsonDecoder[VideoFailed](),
	{TypeDeleteVideo, 1}:      jsonDecoder[DeleteVideo](),
	{TypeUpdateProgress, 1}:   jsonDecoder[UpdateProgress](),
	{TypeRecordReplica, 1}:    jsonDecoder[RecordReplica](),
	{TypeEnqueueJob, 1}:       jsonDecoder[EnqueueJob](),
	{TypeClaimJob, 1}:         jsonDecoder[ClaimJob](),
	{TypeRenewLease, 1}:       jsonDecoder[RenewLease](),
	{TypeCompleteJob, 1}:      jsonDecoder[CompleteJob](),
	{TypeFailJob, 1}:          jsonDecoder[FailJob](),
	{TypeRetryJob, 1}:         jsonDecoder[RetryJob](),
	{TypeAddViews, 1}:         jsonDecoder[AddViews](),
	{TypeAddQoE, 1}:           jsonDecoder[AddQoE](),
	{TypeRegisterMember, 1}:   jsonDecoder[RegisterMember](),
	{TypeRemoveMember, 1}:     jsonDecoder[RemoveMember](),
	{TypeCreateUser, 1}:       jsonDecoder[CreateUser](),
	{TypeUpdateUser, 1}:       jsonDecoder[UpdateUser](),
	{TypeAddPasskey, 1}:       jsonDecoder[AddPasskey](),
	{TypeUsePasskey, 1}:       jsonDecoder[UsePasskey](),
	{TypeDeletePasskey, 1}:    jsonDecoder[DeletePasskey](),
	{TypeCreateSession, 1}:    jsonDecoder[CreateSession](),
	{TypeDeleteSession, 1}:    jsonDecoder[DeleteSession](),
	{TypeCreateToken, 1}:      jsonDecoder[CreateToken](),
	{TypeDeleteToken, 1}:      jsonDecoder[DeleteToken](),
	{TypeTouchToken, 1}:       jsonDecoder[TouchToken](),
	{TypePutChallenge, 1}:     jsonDecoder[PutChallenge](),
	{TypeConsumeChallenge, 1}: jsonDecoder[ConsumeChallenge](),
	{TypeRotateSigningKey, 1}: jsonDecoder[RotateSigningKey](),
	{TypeRemoveSigningKey, 1}: jsonDecoder[RemoveSigningKey](),
	{TypeCreateSetupLink, 1}:  jsonDecoder[CreateSetupLink](),
	{TypeConsumeSetupLink, 1}: jsonDecoder[ConsumeSetupLink](),
	{TypeSetCaption, 1}:       jsonDecoder[SetCaption](),
	{TypeDeleteCaption, 1}:    jsonDecoder[DeleteCaption](),
	{TypeSetEdge, 1}:          jsonDecoder[SetEdge](),
	{TypeRemoveEdge, 1}:       jsonDecoder[RemoveEdge](),
}

// Decode reads a log entry written by Encode.
func Decode(entry []byte) (Command, error) {
	if len(entry) < headerLen {
		return nil, fmt.Errorf("%w: entry of %d bytes is shorter than its header", ErrUnknown, len(entry))
	}
	k := key{Type(entry[0]), entry[1]}
	dec, ok := decoders[k]
	if !ok {
		return nil, fmt.Errorf("%w: type %d version %d", ErrUnknown, k.t, k.v)
	}
	c, err := dec(entry[headerLen:])
	if err != nil {
		return nil, fmt.Errorf("decode type %d version %d: %w", k.t, k.v, err)
	}
	return c, nil
}

// Stamp is embedded by every command: the proposer's clock at proposal time.
// The state machine never reads a clock of its own, so every replica computes
// the same state from the same log.
type Stamp struct {
	At time.Time `json:"at"`
}

// Time returns when the command was proposed.
func (s Stamp) Time() time.Time { return s.At }
