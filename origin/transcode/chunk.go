package transcode

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Chunked transcoding spreads one long source over the workers of several
// origins:
//
//  1. SplitSource cuts the video stream, without re-encoding, into pieces
//     at keyframes (ffmpeg's segment muxer), and EncodeAudio encodes the
//     audio once, whole: AAC encoded piecewise would click at every cut.
//  2. TranscodeChunk encodes one piece into every rung of the ladder the
//     whole source plans (the plan travels with the job), in one MP4 with
//     a video track per rung. Each piece starts with a keyframe and keeps
//     the fixed GOP from there, so every rung of a chunk has its keyframes
//     at the same instants.
//  3. JoinChunks concatenates the chunks (ffmpeg's concat demuxer, stream
//     copy) with the audio into the same CMAF output, HLS and DASH
//     manifests as a one-pass run. The dash muxer cuts segments at
//     keyframes, which are the same in every rung, so segments line up
//     across rungs; a segment may end early at a piece boundary.
//
// Timestamps need no arithmetic of ours: pieces start at 0, each chunk
// lasts exactly its frames at the output rate, and the concat demuxer
// places each chunk right after the one before.

// Piece is one cut of the source's video.
type Piece struct {
	File      string  `json:"file"` // name in the split directory
	DurationS float64 `json:"duration_s"`
}

// pieceDemuxer is the container of pieces: MOV keeps rotation matrices and
// takes every codec we accept.
const pieceDemuxer = "mov"

// internalFormats may be read by the runs that read our own intermediate
// files (pieces, chunks, the concat list we write), never by an upload.
const internalFormats = "mov,mp4,m4a,3gp,3g2,mj2,concat"

// SplitSource cuts p's video stream into pieces of about pieceSeconds,
// each starting on a keyframe, into dir.
func SplitSource(ctx context.Context, cfg Config, input string, p *Probe, dir string, pieceSeconds float64) ([]Piece, error) {
	if !p.HasVideo {
		return nil, errors.New("transcode: split: no video stream")
	}
	if pieceSeconds < 1 {
		return nil, errors.New("transcode: split: pieces must be at least 1 s long")
	}
	in, err := filepath.Abs(input)
	if err != nil {
		return nil, fmt.Errorf("transcode: split: %w", err)
	}
	list := filepath.Join(dir, "pieces.csv")
	args := []string{
		"-nostdin", "-hide_banner", "-v", "error", "-nostats", "-n",
		"-protocol_whitelist", "file", "-format_whitelist", formatWhitelist,
		"-f", p.Demuxer, "-i", "file:" + in,
		"-map_metadata", "-1", "-map_chapters", "-1",
		"-map", fmt.Sprintf("0:%d", p.VideoStream), "-c", "copy",
		"-f", "segment", "-segment_format", pieceDemuxer,
		"-segment_time", strconv.FormatFloat(pieceSeconds, 'f', 3, 64),
		"-reset_timestamps", "1",
		"-segment_list", "file:" + list, "-segment_list_type", "csv",
		"file:" + filepath.Join(dir, "piece-%04d.mov"),
	}
	// Copying is bound by the disk: a minute per 10 GB is generous.
	timeout := cfg.TimeoutBase + time.Duration(float64(p.SizeBytes)/(10<<30)*float64(time.Minute))
	if _, err := run(ctx, cfg, cfg.FFmpeg, args, timeout, io.Discard); err != nil {
		return nil, fmt.Errorf("transcode: split: %w", err)
	}
	f, err := os.Open(list)
	if err != nil {
		return nil, fmt.Errorf("transcode: split: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("transcode: split: piece list: %w", err)
	}
	var pieces []Piece
	for _, r := range rows {
		if len(r) < 3 {
			return nil, fmt.Errorf("transcode: split: piece list row %q", r)
		}
		start, err1 := strconv.ParseFloat(r[1], 64)
		end, err2 := strconv.ParseFloat(r[2], 64)
		if err1 != nil || err2 != nil || end < start || !isPlainRelative(r[0]) {
			return nil, fmt.Errorf("transcode: split: piece list row %q", r)
		}
		pieces = append(pieces, Piece{File: r[0], DurationS: end - start})
	}
	if len(pieces) == 0 {
		return nil, errors.New("transcode: split: no pieces")
	}
	return pieces, nil
}

// AudioFile is the name EncodeAudio writes in its directory.
const AudioFile = "audio.mp4"

// EncodeAudio encodes p's audio, whole, to dir/AudioFile with the settings
// of the one-pass ladder.
func EncodeAudio(ctx context.Context, cfg Config, input string, p *Probe, dir string) error {
	if !p.HasAudio {
		return errors.New("transcode: audio: no audio stream")
	}
	in, err := filepath.Abs(input)
	if err != nil {
		return fmt.Errorf("transcode: audio: %w", err)
	}
	args := []string{
		"-nostdin", "-hide_banner", "-v", "warning", "-nostats", "-n",
		"-protocol_whitelist", "file", "-format_whitelist", formatWhitelist,
		"-f", p.Demuxer, "-i", "file:" + in,
		"-map_metadata", "-1", "-map_chapters", "-1",
		"-map", fmt.Sprintf("0:%d", p.AudioStream), "-vn",
	}
	args = append(args, audioArgs(cfg, p)...)
	args = append(args, "-f", "mp4", "file:"+filepath.Join(dir, AudioFile))
	timeout := time.Duration(ffmpegTimeout(cfg, p) * float64(time.Second))
	if _, err := run(ctx, cfg, cfg.FFmpeg, args, timeout, io.Discard); err != nil {
		return fmt.Errorf("transcode: audio: %w", err)
	}
	return nil
}

// audioArgs are the AAC settings every audio rendition uses.
func audioArgs(cfg Config, p *Probe) []string {
	args := []string{"-c:a", "aac", "-b:a", fmt.Sprintf("%dk", cfg.AudioKbps)}
	if p.AudioChannels > 2 {
		args = append(args, "-ac", "2")
	}
	if p.AudioSampleRate != 44100 && p.AudioSampleRate != 48000 {
		args = append(args, "-ar", "48000")
	}
	return args
}

// TranscodeChunk encodes one piece (a file SplitSource wrote) into every
// rung that src, the whole source's probe, plans: one MP4 at outFile with
// a video track per rung, largest first.
func TranscodeChunk(ctx context.Context, cfg Config, piece string, pieceDurationS float64, src *Probe, outFile string, progress func(float64)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	in, err := filepath.Abs(piece)
	if err != nil {
		return fmt.Errorf("transcode: chunk: %w", err)
	}
	// The piece is the source's video stream alone, in MOV.
	p := *src
	p.Demuxer, p.VideoStream = pieceDemuxer, 0
	p.HasAudio, p.AudioStream = false, -1
	p.DurationS = pieceDurationS
	ep := newEncodePlan(cfg, &p, in, filepath.Dir(outFile))
	ep.posterAt = -1
	ep.audio = false
	args, err := replaceOutput(buildArgs(cfg, ep), "-f", "mp4", "file:"+outFile)
	if err != nil {
		return err
	}
	// Our own piece, in MOV: read it with the internal allow-list.
	args = slices.Clone(args)
	for i := range args {
		if args[i] == "-format_whitelist" {
			args[i+1] = internalFormats
		}
	}
	timeout := time.Duration(ffmpegTimeout(cfg, &p) * float64(time.Second))
	pw := &progressWriter{durationS: p.DurationS, report: progress, now: time.Now}
	if _, err := run(ctx, cfg, cfg.FFmpeg, args, timeout, pw); err != nil {
		return fmt.Errorf("transcode: chunk: %w", err)
	}
	return nil
}

// replaceOutput swaps the dash output at the end of a buildArgs command
// line (from its "-f dash" on) for out.
func replaceOutput(args []string, out ...string) ([]string, error) {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-f" && args[i+1] == "dash" {
			if slices.Contains(args[i+2:], "[poster]") {
				return nil, errors.New("transcode: chunk plans make no poster")
			}
			return append(slices.Clone(args[:i]), out...), nil
		}
	}
	return nil, errors.New("transcode: no dash output to replace")
}

// JoinChunks puts chunk files (TranscodeChunk's outputs, in order) and the
// audio file (EncodeAudio's, "" for silent video) together into outDir, as
// Transcode would have written it for src.
func JoinChunks(ctx context.Context, cfg Config, src *Probe, chunks []string, audio, outDir string) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(chunks) == 0 {
		return nil, errors.New("transcode: join: no chunks")
	}
	out, err := prepareOutDir(outDir)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(filepath.Dir(out), ".join-")
	if err != nil {
		return nil, fmt.Errorf("transcode: join: %w", err)
	}
	defer os.RemoveAll(work)
	var list strings.Builder
	list.WriteString("ffconcat version 1.0\n")
	for i, c := range chunks {
		// Links give the list plain names: the concat demuxer in safe
		// mode refuses anything else.
		name := fmt.Sprintf("chunk-%04d.mp4", i)
		abs, err := filepath.Abs(c)
		if err != nil {
			return nil, fmt.Errorf("transcode: join: %w", err)
		}
		if err := os.Symlink(abs, filepath.Join(work, name)); err != nil {
			return nil, fmt.Errorf("transcode: join: %w", err)
		}
		fmt.Fprintf(&list, "file %s\n", name)
	}
	listFile := filepath.Join(work, "chunks.ffconcat")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o644); err != nil {
		return nil, fmt.Errorf("transcode: join: %w", err)
	}

	p := *src
	p.HasAudio = audio != ""
	ep := newEncodePlan(cfg, &p, listFile, out)
	ep.posterAt = -1
	// Chunked output differs in bytes from a one-pass run's: other names.
	ep.sig += "j"
	args := []string{
		"-nostdin", "-hide_banner", "-v", "warning", "-nostats", "-n",
		"-protocol_whitelist", "file", "-format_whitelist", internalFormats,
		"-f", "concat", "-safe", "1", "-i", "file:" + listFile,
	}
	if p.HasAudio {
		a, err := filepath.Abs(audio)
		if err != nil {
			return nil, fmt.Errorf("transcode: join: %w", err)
		}
		args = append(args, "-f", "mov", "-i", "file:"+a)
	}
	args = append(args, "-map_metadata", "-1", "-map_chapters", "-1")
	for i := range ep.rungs {
		args = append(args, "-map", fmt.Sprintf("0:v:%d", i))
	}
	adaptation := []string{"id=0,streams=v"}
	if p.HasAudio {
		args = append(args, "-map", "1:a:0")
		adaptation = append(adaptation, "id=1,streams=a")
	}
	args = append(args, "-c", "copy",
		"-f", "dash",
		"-seg_duration", strconv.Itoa(cfg.SegmentSeconds),
		"-use_template", "1", "-use_timeline", "1",
		"-hls_playlist", "1",
		"-adaptation_sets", strings.Join(adaptation, " "),
		"-init_seg_name", ep.initName(),
		"-media_seg_name", ep.mediaTemplate(),
		"file:"+filepath.Join(out, manifestName),
	)
	// Copying is fast; the budget of a 10 s encode is plenty.
	if _, err := run(ctx, cfg, cfg.FFmpeg, args, cfg.TimeoutBase, io.Discard); err != nil {
		return nil, fmt.Errorf("transcode: join: %w", err)
	}
	return finish(ctx, cfg, ep, false)
}
