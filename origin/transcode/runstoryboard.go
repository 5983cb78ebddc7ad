package transcode

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The ladder's run decodes every frame of the source anyway, so it also
// draws the storyboard: one more branch of its filter graph picks a frame
// per interval and tiles it into sprite sheets, at the cost of scaling a
// frame a second. Images then only makes the thumbnails. Drawn by Images
// itself, a storyboard from a source with sparse keyframes (a 250-frame
// GOP, as x264's default and many exports have) needed one more full
// decode: 24 of the 188 CPU seconds bench-transcode measured for a 60 s
// 1080p upload.

// addStoryboard plans the storyboard branch of a run that has video. The
// tile times go to a log beside outDir (the metadata filter writes them
// there; outDir must hold only what is published). A path the filter
// graph would need escaped leaves the storyboard to Images.
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

// tileLogMark stands for the tile log's path in the filter graph until
// buildArgs puts the path in: the path names a scratch folder, and the
// settings signature hashes the graph.
const tileLogMark = ":file=TILES,"

// storyboardBranch is the filter chain of the storyboard branch, reading
// the label in and ending in [sb].
func (ep *encodePlan) storyboardBranch(in string) string {
	ip := &imagePlan{probe: ep.probe, sb: ep.sb}
	return strings.Replace(ip.storyboardGraph(in), ":file=-,", tileLogMark, 1)
}

// storyboardArgs are the sprite sheets' output arguments.
func (ep *encodePlan) storyboardArgs() []string {
	pattern := strings.ReplaceAll(ep.outDir, "%", "%%") + "/" + ep.sb.prefix() + "%d.jpg"
	args := jpegArgs("sb", 5)
	return append(args, "-frames:v", fmt.Sprint(ep.sb.maxSheets), "-start_number", "1", "file:"+pattern)
}

// finishStoryboard writes the VTT for the sheets the run drew. A run that
// drew no tile (a video stream with no decodable frame) leaves it to
// Images: nil, no error.
func (ep *encodePlan) finishStoryboard(cfg Config) (*Storyboard, error) {
	if ep.sb == nil {
		return nil, nil
	}
	data, err := os.ReadFile(ep.tileLog)
	os.Remove(ep.tileLog)
	if err != nil {
		return nil, fmt.Errorf("transcode: storyboard tiles: %w", err)
	}
	times := parseTileTimes(data)
	if len(times) == 0 {
		cfg.logger().Warn("transcode: the run drew no storyboard tile")
		return nil, nil
	}
	ip := &imagePlan{outDir: ep.outDir, probe: ep.probe, sb: ep.sb}
	sb, _, err := ip.finishStoryboard(times)
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

// removeTileLog drops the tile log of a run that failed.
func (ep *encodePlan) removeTileLog() {
	if ep.tileLog != "" {
		os.Remove(ep.tileLog)
	}
}

// storyboardFiles lists a storyboard's files.
func storyboardFiles(sb *Storyboard) []string {
	if sb == nil {
		return nil
	}
	return append([]string{sb.VTT}, sb.Sprites...)
}
