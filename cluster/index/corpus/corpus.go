// Package corpus generates a deterministic, realistic-looking set of videos
// for relevance tests and benchmarks of the search index: titles,
// descriptions and tags across topics (gaming, cooking, music, travel,
// tech, sports, and lifestyle videos about nothing in particular), with
// accents, plural forms, subjects named only in tags, descriptions that
// mention other subjects in passing, and videos no one else may see.
//
// Every video carries its Truth: what it is about, as the generator chose
// it. Relevance labels are written against the Truth, so they are
// independent of what any search engine makes of the text.
package corpus

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

// Truth is what a generated video is about.
type Truth struct {
	Topic   string
	Subject string
	Format  string
	// Song is the song a cover plays.
	Song  string
	Owner string
	// Visible says whether an anonymous viewer may find the video (public
	// and ready).
	Visible bool
}

// Video is a generated video and its truth.
type Video struct {
	*model.Video
	Truth Truth
}

// Reference is the generated corpus's "now": uploads happen in the two
// years before it, views in its last days.
var Reference = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// Generate returns n videos; the same seed always gives the same videos.
func Generate(seed uint64, n int) []Video {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	out := make([]Video, 0, n)
	for i := range n {
		out = append(out, g.video(fmt.Sprintf("v%06d", i)))
	}
	return out
}

type gen struct {
	r *rand.Rand
}

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) video(id string) Video {
	v := &model.Video{ID: id}
	var tr Truth
	if g.chance(0.08) {
		g.lifestyle(v, &tr)
	} else {
		g.topical(v, &tr)
	}
	tr.Owner = v.Owner
	g.facts(v)
	switch x := g.r.Float64(); {
	case x < 0.05:
		v.Visibility = model.Unlisted
	case x < 0.08:
		v.Visibility = model.Private
	default:
		v.Visibility = model.Public
	}
	if g.chance(0.02) {
		v.Status = model.StatusProcessing
		v.Renditions, v.ReadyAt = nil, time.Time{}
	}
	tr.Visible = v.Visibility == model.Public && v.Status == model.StatusReady
	return Video{Video: v, Truth: tr}
}

func (g *gen) lifestyle(v *model.Video, tr *Truth) {
	tr.Topic = "lifestyle"
	v.Owner = g.pick(lifestyleOwners)
	v.Title = g.pick(lifestyle)
	v.Description = g.pick(lifestyleFiller) + " " + g.pick(lifestyleFiller)
	v.Tags = []string{"vlog", "lifestyle"}
	v.DurationS = 300 + g.r.Float64()*1200
}

func (g *gen) topical(v *model.Video, tr *Truth) {
	t := &topics[g.r.IntN(len(topics))]
	s := t.subjects[g.r.IntN(len(t.subjects))]
	f := t.formats[g.r.IntN(len(t.formats))]
	tr.Topic, tr.Subject, tr.Format = t.key, s.key, f.key
	v.Owner = g.pick(t.owners)
	name := g.pick(s.names)
	song := songs[g.r.IntN(len(songs))]
	if f.key == "cover" {
		tr.Song = song.key
	}
	fill := func(tmpl string) string {
		team := g.pick(teams)
		team2 := g.pick(teams)
		for team2 == team {
			team2 = g.pick(teams)
		}
		return strings.NewReplacer(
			"{S}", name,
			"{N}", fmt.Sprint(2+g.r.IntN(30)),
			"{Song}", song.name,
			"{Team}", team, "{Team2}", team2,
			"{Thing}", g.pick(things),
		).Replace(tmpl)
	}
	// Most titles name the subject; some leave it to the tags and the
	// description, as real uploads do.
	named := !g.chance(0.15)
	if named {
		v.Title = capitalize(fill(g.pick(f.titles)))
	} else {
		v.Title = fill(g.pick(f.generic))
	}

	var desc []string
	if !named || g.chance(0.7) {
		desc = append(desc, fill(g.pick(t.filler[:2])))
	}
	rest := t.filler[2:]
	first := g.r.IntN(len(rest))
	desc = append(desc, fill(rest[first]), fill(rest[(first+1+g.r.IntN(len(rest)-1))%len(rest)]))
	if g.chance(0.3) {
		// A passing mention of another subject: a distractor, not a topic.
		other := t.subjects[g.r.IntN(len(t.subjects))]
		if other.key != s.key {
			desc = append(desc, fmt.Sprintf("Next week: %s, so stay tuned.", g.pick(other.names)))
		}
	}
	if g.chance(0.2) {
		desc = append(desc, "Follow "+strings.ReplaceAll(v.Owner, "_", " ")+" for more.")
	}
	v.Description = strings.Join(desc, " ")

	tags := []string{t.tag}
	tags = append(tags, s.tags[:1+g.r.IntN(len(s.tags))]...)
	tags = append(tags, f.tags[:1+g.r.IntN(len(f.tags))]...)
	if g.chance(0.3) {
		tags = append(tags, fmt.Sprint(2024+g.r.IntN(3)))
	}
	v.Tags = tags
	lo, hi := f.duration[0], f.duration[1]
	v.DurationS = math.Round(lo + g.r.Float64()*(hi-lo))
}

// facts fills what the worker and the viewers would: resolution, dates,
// audio, views.
func (g *gen) facts(v *model.Video) {
	v.Status = model.StatusReady
	v.Progress = 100
	heights := []int{2160, 1080, 1080, 1080, 720, 720, 480}
	h := heights[g.r.IntN(len(heights))]
	w := h * 16 / 9
	if g.chance(0.1) {
		w, h = h, w // vertical
	}
	v.Width, v.Height = w, h
	v.HasAudio = !g.chance(0.03)
	for _, rh := range []int{2160, 1080, 720, 480, 360} {
		if rh <= min(w, h) {
			v.Renditions = append(v.Renditions, model.Rendition{Name: fmt.Sprintf("%dp", rh), Height: rh, Width: rh * 16 / 9})
		}
	}
	age := time.Duration(g.r.Float64() * float64(730*24*time.Hour))
	v.CreatedAt = Reference.Add(-age).Truncate(time.Second)
	v.UpdatedAt = v.CreatedAt
	v.ReadyAt = v.CreatedAt.Add(10 * time.Minute)
	v.Views = int64(math.Exp(g.r.NormFloat64()*2 + 6))
	if g.chance(0.3) {
		last := Reference.Unix() / 3600
		for h := last - int64(g.r.IntN(72)); h <= last; h += 1 + int64(g.r.IntN(12)) {
			v.RecentViews = append(v.RecentViews, model.HourViews{Hour: h, N: 1 + int64(g.r.IntN(50))})
		}
	}
}

// capitalize upper-cases a title's first letter, unless the first word is
// a name spelled with its own capitals ("iPhone").
func capitalize(s string) string {
	r := []rune(s)
	if len(r) < 2 || r[0] < 'a' || r[0] > 'z' || (r[1] >= 'A' && r[1] <= 'Z') {
		return s
	}
	r[0] -= 'a' - 'A'
	return string(r)
}
