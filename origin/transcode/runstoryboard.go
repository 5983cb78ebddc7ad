package transcode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The ladder's run decodes every frame of the source anyway, so it also
// draws the storyboard: one more branch of its filter graph picks a frame
// per interval as a tile, packed into sprite sheets afterwards, at the cost of scaling a
// frame a second. Images then only makes the thumbnails. Drawn by Images
// itself, a storyboard from a source with sparse keyframes (a 250-frame
// GOP, as x264's default and many exports have) needed one more full
// decode: 24 of the 188 CPU seconds bench-transcode measured for a 60 s
// 1080p upload.

// addStoryboard plans the storyboard branch of a run that has video. The
// tile times go to a log beside outDir (the metadata filter writes them
// there; outDir must hold only what is published) and the tiles to a
// folder beside it too: the run writes each tile as it is picked, and
// finishStoryboard packs them into sheets with a small ffmpeg of its own.
// Drawing the sheets in the run itself (the tile filter) would keep that
// output's stream from starting until the first sheet is full, and ffmpeg
// 5.1 reports no progress for the whole run until then (measured: none
// for 13.4 of a 13.9 s run). A path the filter graph would need escaped
// leaves the storyboard to Images.
func (ep *encodePlan) addStoryboard(cfg Config) {
	if !ep.probe.HasVideo || len(ep.rungs) == 0 {
		return
	}
	log := ep.outDir + ".tiles"
	if strings.ContainsAny(log, "\\:'[],; \t\n\"=%") {
		return
	}
	ep.sb = planStoryboard(ep.probe, false)
	ep.tileLog = log
	ep.sig = settingsSignature(cfg, ep)
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%g|%dx%d|%dx%d", ep.sig, ep.sb.intervalS, ep.sb.tileW, ep.sb.tileH, ep.sb.cols, ep.sb.rows))
	ep.sb.sig = hex.EncodeToString(sum[:4])
}

// tileDir holds the run's tiles until they are packed.
func (ep *encodePlan) tileDir() string { return ep.tileLog + ".d" }

// tileLogMark stands for the tile log's path in the filter graph until
// buildArgs puts the path in: the path names a scratch folder, and the
// settings signature hashes the graph.
const tileLogMark = ":file=TILES,"

// storyboardBranch is the filter chain of the storyboard branch, reading
// the label in and ending in [sb]: the frames Images' storyboard graph
// picks, scaled to tiles, one output frame per tile.
func (ep *encodePlan) storyboardBranch(in string) string {
	ip := &imagePlan{probe: ep.probe, sb: ep.sb}
	g := strings.Replace(ip.storyboardGraph(in), ":file=-,", tileLogMark, 1)
	return strings.Replace(g, fmt.Sprintf(",tile=%dx%d[sb]", ep.sb.cols, ep.sb.rows), "[sb]", 1)
}

// storyboardArgs are the tiles' output arguments: one JPEG per tile, at a
// high quality since packing encodes them again, each frame as it comes
// (no frame rate conversion: it would repeat tiles).
func (ep *encodePlan) storyboardArgs() []string {
	pattern := strings.ReplaceAll(ep.tileDir(), "%", "%%") + "/tile-%d.jpg"
	args := jpegArgs("sb", 2)
	return append(args, "-fps_mode", "passthrough", "-frames:v", fmt.Sprint(ep.sb.cells+1),
		"-start_number", "1", "file:"+pattern)
}

// prepareTiles makes the tile folder empty before a run.
func (ep *encodePlan) prepareTiles() error {
	if ep.sb == nil {
		return nil
	}
	os.RemoveAll(ep.tileDir())
	return os.MkdirAll(ep.tileDir(), 0o755)
}

// finishStoryboard packs the run's tiles into sprite sheets and writes
// the VTT. A run that drew no tile (a video stream with no decodable
// frame) leaves it to Images: nil, no error.
func (ep *encodePlan) finishStoryboard(ctx context.Context, cfg Config) (*Storyboard, error) {
	if ep.sb == nil {
		return nil, nil
	}
	defer ep.removeTiles()
	data, err := os.ReadFile(ep.tileLog)
	if err != nil {
		return nil, fmt.Errorf("transcode: storyboard tiles: %w", err)
	}
	times := parseTileTimes(data)
	if len(times) == 0 {
		cfg.logger().Warn("transcode: the run drew no storyboard tile")
		return nil, nil
	}
	ip := &imagePlan{outDir: ep.outDir, probe: ep.probe, sb: ep.sb}
	if err := ip.removeOwn(ep.sb.prefix()); err != nil {
		return nil, err
	}
	sb, err := ep.packTiles(ctx, cfg, ip, times)
	if err != nil {
		// Nothing half-made is published: Images draws its own.
		if rerr := ip.removeOwn(ep.sb.prefix()); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		os.Remove(filepath.Join(ep.outDir, ep.sb.vttName()))
		return nil, err
	}
	return sb, nil
}

// packTiles runs ffmpeg's tile filter over the tile JPEGs (our own files:
// only the image2 demuxer, only the file protocol) and checks the sheets.
func (ep *encodePlan) packTiles(ctx context.Context, cfg Config, ip *imagePlan, times []float64) (*Storyboard, error) {
	sb := ep.sb
	pattern := strings.ReplaceAll(ep.outDir, "%", "%%") + "/" + sb.prefix() + "%d.jpg"
	args := []string{"-nostdin", "-hide_banner", "-v", "warning", "-nostats", "-n",
		"-protocol_whitelist", "file", "-format_whitelist", "image2",
		"-f", "image2", "-framerate", "1", "-start_number", "1",
		"-i", "file:" + strings.ReplaceAll(ep.tileDir(), "%", "%%") + "/tile-%d.jpg",
		"-filter_complex", fmt.Sprintf("[0:0]tile=%dx%d[sb]", sb.cols, sb.rows),
	}
	args = append(args, jpegArgs("sb", 5)...)
	args = append(args, "-frames:v", fmt.Sprint(sb.maxSheets), "-start_number", "1", "file:"+pattern)
	timeout := time.Duration(ffmpegTimeout(cfg, ep.probe) * float64(time.Second))
	if _, err := run(ctx, cfg, cfg.FFmpeg, args, timeout, io.Discard); err != nil {
		return nil, fmt.Errorf("transcode: storyboard sheets: %w", err)
	}
	sbRes, _, err := ip.finishStoryboard(times)
	return sbRes, err
}

// removeTiles drops the tile log and folder.
func (ep *encodePlan) removeTiles() {
	if ep.tileLog != "" {
		os.Remove(ep.tileLog)
		os.RemoveAll(ep.tileDir())
	}
}

// storyboardFiles lists a storyboard's files.
func storyboardFiles(sb *Storyboard) []string {
	if sb == nil {
		return nil
	}
	return append([]string{sb.VTT}, sb.Sprites...)
}
