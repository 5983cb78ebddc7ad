package transcode

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/grafov/m3u8"
)

// ffmpeg's dash muxer writes a usable HLS master, but its BANDWIDTH is the
// configured maxrate plus audio, it has no AVERAGE-BANDWIDTH or
// FRAME-RATE, and it is rewritten on every segment during encoding. We parse
// it (to learn which media playlist is which) and write our own from what
// is actually on disk: segment sizes and durations, and the codec strings
// from the init segments.

// audioGroup is the GROUP-ID shared by every video variant.
const audioGroup = "audio"

// mediaInfo describes one HLS media playlist and the files it references.
type mediaInfo struct {
	uri       string // media playlist, relative to outDir
	init      string // init segment, relative
	segments  []string
	duration  float64 // sum of EXTINF
	peakBps   float64 // highest bit rate of a (not too short) segment
	avgBps    float64 // all segment bytes over duration
	track     *trackInfo
	totalSize int64
}

// readMedia parses a media playlist written by ffmpeg, checks that every
// URI is a plain relative file name that exists, and measures bit rates.
func readMedia(outDir, uri string) (*mediaInfo, error) {
	if !isPlainRelative(uri) {
		return nil, fmt.Errorf("media playlist URI %q is not a relative file name", uri)
	}
	data, err := os.ReadFile(filepath.Join(outDir, uri))
	if err != nil {
		return nil, fmt.Errorf("media playlist: %w", err)
	}
	pl, typ, err := m3u8.Decode(*bytes.NewBuffer(data), false)
	if err != nil {
		return nil, fmt.Errorf("media playlist %s: %w", uri, err)
	}
	media, ok := pl.(*m3u8.MediaPlaylist)
	if !ok || typ != m3u8.MEDIA {
		return nil, fmt.Errorf("%s is not a media playlist", uri)
	}
	mi := &mediaInfo{uri: uri}
	if media.Map == nil || !isPlainRelative(media.Map.URI) {
		return nil, fmt.Errorf("media playlist %s has no usable EXT-X-MAP", uri)
	}
	mi.init = media.Map.URI
	if mi.track, err = readInitSegment(filepath.Join(outDir, mi.init)); err != nil {
		return nil, err
	}
	type seg struct {
		size int64
		dur  float64
	}
	var segs []seg
	var maxDur float64
	for _, s := range media.Segments {
		if s == nil {
			continue // grafov's ring buffer has empty slots after the last segment
		}
		if !isPlainRelative(s.URI) {
			return nil, fmt.Errorf("segment URI %q in %s is not a relative file name", s.URI, uri)
		}
		st, err := os.Stat(filepath.Join(outDir, s.URI))
		if err != nil {
			return nil, fmt.Errorf("segment of %s: %w", uri, err)
		}
		mi.segments = append(mi.segments, s.URI)
		segs = append(segs, seg{st.Size(), s.Duration})
		mi.duration += s.Duration
		mi.totalSize += st.Size()
		maxDur = math.Max(maxDur, s.Duration)
	}
	if len(segs) == 0 || mi.duration <= 0 {
		return nil, fmt.Errorf("media playlist %s lists no segments", uri)
	}
	mi.avgBps = float64(mi.totalSize) * 8 / mi.duration
	// HLS wants BANDWIDTH to be the peak segment bit rate. A very short
	// last segment (a few frames starting with a keyframe) would inflate
	// it far beyond anything a player sustains, so segments shorter than
	// half the longest are left out of the peak unless nothing else is left.
	for _, long := range []bool{true, false} {
		for _, s := range segs {
			if long && s.dur < maxDur/2 {
				continue
			}
			if s.dur > 0 {
				mi.peakBps = math.Max(mi.peakBps, float64(s.size)*8/s.dur)
			}
		}
		if mi.peakBps > 0 {
			break
		}
	}
	return mi, nil
}

// isPlainRelative accepts "name.ext" style references only: no scheme, no
// absolute path, no parent directory, no query.
func isPlainRelative(u string) bool {
	if u == "" || strings.ContainsAny(u, ":?#\\") || strings.HasPrefix(u, "/") {
		return false
	}
	clean := path.Clean(u)
	return clean == u && !strings.HasPrefix(clean, "../") && clean != ".."
}

// ffmpegMaster is what we take from ffmpeg's master: the media playlist of
// each video variant, in stream order, and the audio playlist.
type ffmpegMaster struct {
	video []string
	audio string
}

func readFFmpegMaster(outDir string) (*ffmpegMaster, error) {
	data, err := os.ReadFile(filepath.Join(outDir, masterName))
	if err != nil {
		return nil, fmt.Errorf("ffmpeg master: %w", err)
	}
	pl, typ, err := m3u8.Decode(*bytes.NewBuffer(data), false)
	if err != nil {
		return nil, fmt.Errorf("ffmpeg master: %w", err)
	}
	master, ok := pl.(*m3u8.MasterPlaylist)
	if !ok || typ != m3u8.MASTER {
		return nil, fmt.Errorf("ffmpeg master is not a master playlist")
	}
	fm := &ffmpegMaster{}
	for _, v := range master.Variants {
		if v.Iframe {
			continue
		}
		fm.video = append(fm.video, v.URI)
		for _, alt := range v.Alternatives {
			if alt.Type == "AUDIO" && alt.URI != "" {
				fm.audio = alt.URI
			}
		}
	}
	return fm, nil
}

// writeMaster writes our master.m3u8 over ffmpeg's. renditions and video
// are parallel; audio may be nil (video without sound) and video empty
// (audio-only: one variant that is the audio playlist itself).
func writeMaster(outDir string, renditions []Rendition, video []*mediaInfo, audio *mediaInfo) error {
	mp := m3u8.NewMasterPlaylist()
	mp.SetVersion(7)
	// Every segment starts with a keyframe (fixed GOP, segments cut on
	// GOP boundaries).
	mp.SetIndependentSegments(true)
	var alts []*m3u8.Alternative
	if audio != nil {
		alts = []*m3u8.Alternative{{
			GroupId: audioGroup, Type: "AUDIO", Name: "default", Default: true, Autoselect: "YES", URI: audio.uri,
		}}
	}
	for i, r := range renditions {
		params := m3u8.VariantParams{
			Bandwidth:        uint32(r.Bandwidth),
			AverageBandwidth: uint32(r.AverageBandwidth),
			Codecs:           r.Codecs,
		}
		uri := ""
		if len(video) > 0 {
			uri = video[i].uri
			params.Resolution = fmt.Sprintf("%dx%d", r.Width, r.Height)
			params.FrameRate = r.FrameRate
			if audio != nil {
				params.Audio = audioGroup
				params.Alternatives = alts
			}
		} else if audio != nil {
			uri = audio.uri
		}
		mp.Append(uri, nil, params)
	}
	return writeFileAtomic(filepath.Join(outDir, masterName), mp.Encode().Bytes())
}

// stripProgramDateTime removes EXT-X-PROGRAM-DATE-TIME from a media
// playlist: ffmpeg stamps the wall clock of the encode, which means nothing
// for on-demand video and makes identical encodes differ.
func stripProgramDateTime(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#EXT-X-PROGRAM-DATE-TIME") {
			continue
		}
		out.WriteString(sc.Text())
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return writeFileAtomic(file, out.Bytes())
}

// writeFileAtomic replaces file so that a reader never sees half of it.
func writeFileAtomic(file string, data []byte) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
