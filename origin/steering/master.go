package steering

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/grafov/m3u8"
)

// SteerMaster rewrites an HLS master playlist for content steering: the
// variants and renditions repeated once per pathway, in pathway order,
// each copy's URIs absolute on that pathway's edge and its rendition
// groups renamed per pathway (GROUP-ID "audio" becomes "audio_<pathway>"),
// so a player that leaves a pathway leaves its audio and subtitles too;
// and an EXT-X-CONTENT-STEERING tag naming the steering server and the
// first pathway as the one to start on.
//
// grafov/m3u8 decodes and re-encodes the playlist (the transcoder writes
// it with the same package) and writes the steering tag as a custom tag;
// it has no PATHWAY-ID attribute, which is added to each variant's line
// after encoding, the lines being in variant order.
func SteerMaster(data []byte, pathways []Pathway, serverURI string) ([]byte, error) {
	if len(pathways) == 0 {
		return data, nil
	}
	pl, typ, err := m3u8.Decode(*bytes.NewBuffer(data), false)
	if err != nil {
		return nil, fmt.Errorf("decode master: %w", err)
	}
	master, ok := pl.(*m3u8.MasterPlaylist)
	if !ok || typ != m3u8.MASTER || len(master.Variants) == 0 {
		return nil, errors.New("decode master: not a master playlist")
	}
	orig := master.Variants
	var variants []*m3u8.Variant
	var ids []string
	for _, p := range pathways {
		base, err := url.Parse(p.Base)
		if err != nil || !base.IsAbs() {
			return nil, fmt.Errorf("pathway %s: base %q is not an absolute URL", p.ID, p.Base)
		}
		abs := func(u string) (string, error) {
			if u == "" {
				return "", nil
			}
			ref, err := url.Parse(u)
			if err != nil {
				return "", fmt.Errorf("URI %q: %w", u, err)
			}
			return base.ResolveReference(ref).String(), nil
		}
		group := func(g string) string {
			if g == "" {
				return ""
			}
			return g + "_" + p.ID
		}
		// Renditions are shared by the variants naming their group: copy
		// each once per pathway.
		alts := map[*m3u8.Alternative]*m3u8.Alternative{}
		for _, v := range orig {
			c := *v
			if c.URI, err = abs(v.URI); err != nil {
				return nil, err
			}
			c.Audio, c.Video, c.Subtitles = group(v.Audio), group(v.Video), group(v.Subtitles)
			if c.Captions != "" && c.Captions != "NONE" {
				c.Captions = group(v.Captions)
			}
			c.Alternatives = make([]*m3u8.Alternative, 0, len(v.Alternatives))
			for _, a := range v.Alternatives {
				ca, ok := alts[a]
				if !ok {
					cp := *a
					ca = &cp
					ca.GroupId = group(a.GroupId)
					if ca.URI, err = abs(a.URI); err != nil {
						return nil, err
					}
					alts[a] = ca
				}
				c.Alternatives = append(c.Alternatives, ca)
			}
			variants = append(variants, &c)
			ids = append(ids, p.ID)
		}
	}
	master.Variants = variants
	master.SetCustomTag(steeringTag{server: serverURI, pathway: pathways[0].ID})
	if master.Version() < 3 {
		master.SetVersion(3)
	}
	return addPathwayIDs(master.Encode().Bytes(), ids)
}

// addPathwayIDs appends PATHWAY-ID to the k-th variant line (the
// EXT-X-STREAM-INF and EXT-X-I-FRAME-STREAM-INF tags, in order).
func addPathwayIDs(data []byte, ids []string) ([]byte, error) {
	lines := strings.SplitAfter(string(data), "\n")
	var b strings.Builder
	b.Grow(len(data) + len(ids)*24)
	k := 0
	for _, line := range lines {
		if strings.HasPrefix(line, "#EXT-X-STREAM-INF:") || strings.HasPrefix(line, "#EXT-X-I-FRAME-STREAM-INF:") {
			if k >= len(ids) {
				return nil, errors.New("encode master: more variant lines than variants")
			}
			body, nl := strings.CutSuffix(line, "\n")
			b.WriteString(body)
			b.WriteString(`,PATHWAY-ID="` + ids[k] + `"`)
			if nl {
				b.WriteByte('\n')
			}
			k++
			continue
		}
		b.WriteString(line)
	}
	if k != len(ids) {
		return nil, fmt.Errorf("encode master: %d variant lines for %d variants", k, len(ids))
	}
	return []byte(b.String()), nil
}

// steeringTag is EXT-X-CONTENT-STEERING as a grafov custom tag.
type steeringTag struct{ server, pathway string }

func (steeringTag) TagName() string { return "#EXT-X-CONTENT-STEERING:" }

func (t steeringTag) String() string {
	return fmt.Sprintf(`#EXT-X-CONTENT-STEERING:SERVER-URI="%s",PATHWAY-ID="%s"`, t.server, t.pathway)
}

func (t steeringTag) Encode() *bytes.Buffer { return bytes.NewBufferString(t.String()) }
