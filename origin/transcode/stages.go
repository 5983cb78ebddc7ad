package transcode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// splitStages cuts a full plan into the fast-first-play stages: the rungs
// no taller than cfg.FirstPlayMaxHeight (at least the smallest) with the
// audio and the poster, then the larger rungs alone. It returns the plan
// unsplit when there is nothing to split: audio only, staging off, or every
// rung already low.
func splitStages(cfg Config, full *encodePlan) []*encodePlan {
	if cfg.FirstPlayMaxHeight <= 0 || len(full.rungs) < 2 {
		return []*encodePlan{full}
	}
	cut := len(full.rungs) - 1 // rungs are largest first; keep the smallest at least
	for cut > 0 && full.rungs[cut-1].Height <= cfg.FirstPlayMaxHeight {
		cut--
	}
	if cut == 0 {
		return []*encodePlan{full}
	}
	first, second := *full, *full
	first.rungs = full.rungs[cut:]
	second.rungs = full.rungs[:cut]
	second.audio = false
	second.posterAt = -1
	second.sb, second.tileLog = nil, ""
	first.sig = settingsSignature(cfg, &first)
	second.sig = settingsSignature(cfg, &second)
	return []*encodePlan{&first, &second}
}

// stageShare estimates the first stage's share of the work, in percent,
// for progress reports: each run decodes the source (costed like half its
// pixels, as measured for x264 veryfast rungs against H.264 decoding), and
// each rung costs its pixels, once per codec.
func stageShare(first, second *encodePlan) float64 {
	cost := func(ep *encodePlan) float64 {
		c := 0.5 * float64(ep.probe.Width*ep.probe.Height)
		for _, o := range ep.videoOutputs() { // an AV1 rung costs roughly an x264 one (1.5× measured)
			r := ep.rungs[o.rung]
			c += float64(r.Width * r.Height)
		}
		return c
	}
	a, b := cost(first), cost(second)
	return 100 * a / (a + b)
}

// scaleProgress maps a run's 0..100 onto from..to of the whole.
func scaleProgress(report func(float64), from, to float64) func(float64) {
	if report == nil {
		return nil
	}
	return func(p float64) { report(from + p*(to-from)/100) }
}

// joinStages moves the second stage's files next to the first's and
// writes the master and MPD of the whole ladder over the first stage's.
// The second stage's media playlists are renamed after the first stage's
// representation ids (ffmpeg names both runs' playlists media_0.m3u8 ...);
// its segments already have names of their own (the settings signature
// differs).
func joinStages(cfg Config, first, second *encodePlan) (*Result, error) {
	st1, err := collect(first, nil)
	if err != nil {
		return nil, err
	}
	st2, err := collect(second, st1.audio)
	if err != nil {
		return nil, err
	}
	// Stage one used ids 0..k-1 for H.264, k for audio, then the extra
	// codecs; stage two (no audio) 0..m-1 in videoOutputs order.
	next := len(first.videoOutputs())
	if first.audio {
		next++
	}
	ids := map[string]string{}
	renamed := map[string]string{}
	for i, mi := range st2.video {
		old, id := strconv.Itoa(i), strconv.Itoa(next+i)
		if mi.uri != "media_"+old+".m3u8" {
			return nil, fmt.Errorf("transcode: second stage playlist %q is not named after representation %s", mi.uri, old)
		}
		ids[old] = id
		renamed[mi.uri] = "media_" + id + ".m3u8"
		mi.uri = renamed[mi.uri]
		st2.renditions[i].Playlist = mi.uri
	}

	base, err := os.ReadFile(filepath.Join(first.outDir, manifestName))
	if err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	if err := fixMPDCodecs(second.outDir); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	extra, err := os.ReadFile(filepath.Join(second.outDir, manifestName))
	if err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	mpd, err := mergeVideoMPD(base, extra, ids)
	if err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}

	// Move the second stage's files in; nothing of the first may be
	// overwritten.
	err = filepath.WalkDir(second.outDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if name == manifestName || name == masterName || strings.HasSuffix(name, ".tmp") {
			return nil
		}
		if n, ok := renamed[name]; ok {
			name = n
		}
		dst := filepath.Join(first.outDir, name)
		if _, err := os.Lstat(dst); err == nil {
			return fmt.Errorf("second stage file %s would overwrite the first stage's", name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return os.Rename(p, dst)
	})
	if err != nil {
		return nil, fmt.Errorf("transcode: join stages: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(first.outDir, manifestName), mpd); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	renditions := append(st2.renditions, st1.renditions...)
	video := append(st2.video, st1.video...)
	if err := sortRenditions(renditions, video); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	if err := writeMaster(first.outDir, renditions, video, st1.audio); err != nil {
		return nil, fmt.Errorf("transcode: write master: %w", err)
	}
	if err := checkManifest(first.outDir); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	res := &Result{
		DurationS:  st1.duration,
		Renditions: renditions,
		HasVideo:   true,
		HasAudio:   first.probe.HasAudio,
		Master:     masterName,
		DASH:       manifestName,
	}
	if _, err := os.Stat(filepath.Join(first.outDir, posterName)); err == nil {
		res.Poster = posterName
	}
	if res.Files, err = listFiles(first.outDir); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	return res, nil
}
