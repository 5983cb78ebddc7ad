package media

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/grafov/m3u8"

	"github.com/stratavideo/strata/cluster/model"
)

// rewriteMaster adds the captions to a master playlist: one SUBTITLES
// rendition per caption in the group "subs", and SUBTITLES="subs" on every
// variant. The transcoder writes the master with grafov/m3u8 too, so
// decoding and encoding it again changes nothing else.
func rewriteMaster(data []byte, caps []model.Caption) ([]byte, error) {
	pl, typ, err := m3u8.Decode(*bytes.NewBuffer(data), false)
	if err != nil {
		return nil, fmt.Errorf("decode master: %w", err)
	}
	master, ok := pl.(*m3u8.MasterPlaylist)
	if !ok || typ != m3u8.MASTER || len(master.Variants) == 0 {
		return nil, errors.New("decode master: not a master playlist")
	}
	alts := make([]*m3u8.Alternative, 0, len(caps))
	for _, c := range caps {
		alts = append(alts, &m3u8.Alternative{
			GroupId: subtitleGroup, Type: "SUBTITLES", Language: c.Lang, Name: c.Label,
			Autoselect: "YES", URI: captionsDir + c.Lang + ".m3u8",
		})
	}
	for _, v := range master.Variants {
		if v.Iframe {
			continue // SUBTITLES is not an I-frame stream attribute
		}
		kept := make([]*m3u8.Alternative, 0, len(v.Alternatives)+len(alts))
		for _, a := range v.Alternatives {
			if a.Type != "SUBTITLES" {
				kept = append(kept, a)
			}
		}
		v.Alternatives = append(kept, alts...)
		v.Subtitles = subtitleGroup
	}
	return master.Encode().Bytes(), nil
}

// rewriteMPD adds one text AdaptationSet per caption at the end of the
// first Period. It walks encoding/xml's token stream only to find where
// that Period ends (and the AdaptationSet ids in use, and to refuse a
// document that is not well-formed XML), then splices the new elements
// into the original bytes, which stay as they were. The transcoder makes
// single-Period MPDs; a caption in a later Period would restart with it.
func rewriteMPD(data []byte, caps []model.Caption, durationS float64) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	insertAt, maxID := -1, -1
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse MPD: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "AdaptationSet" {
				for _, a := range t.Attr {
					if a.Name.Local == "id" {
						if n, err := strconv.Atoi(a.Value); err == nil && n > maxID {
							maxID = n
						}
					}
				}
			}
		case xml.EndElement:
			if t.Name.Local == "Period" && insertAt < 0 {
				insertAt = int(off)
			}
		}
	}
	if insertAt < 0 {
		return nil, errors.New("parse MPD: no Period")
	}
	// Insert on a line of its own, indented one step deeper than </Period>.
	lineStart := bytes.LastIndexByte(data[:insertAt], '\n') + 1
	indent := string(data[lineStart:insertAt])
	if strings.TrimLeft(indent, " \t") != "" {
		lineStart, indent = insertAt, ""
	}
	step := "  "
	if strings.Contains(indent, "\t") || bytes.Contains(data, []byte("\n\t<")) {
		step = "\t"
	}
	in := indent + step
	var b bytes.Buffer
	if lineStart == insertAt && indent == "" {
		b.WriteByte('\n')
	}
	for i, c := range caps {
		bw := 1
		if durationS > 0 {
			bw = max(1, int(math.Ceil(float64(c.SizeBytes)*8/durationS)))
		}
		fmt.Fprintf(&b, "%s<AdaptationSet id=\"%d\" contentType=\"text\" mimeType=\"text/vtt\" lang=\"%s\">\n", in, maxID+1+i, attr(c.Lang))
		fmt.Fprintf(&b, "%s%s<Label>%s</Label>\n", in, step, attr(c.Label))
		fmt.Fprintf(&b, "%s%s<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"subtitle\"/>\n", in, step)
		fmt.Fprintf(&b, "%s%s<Representation id=\"caption-%s\" bandwidth=\"%d\">\n", in, step, attr(c.Lang), bw)
		fmt.Fprintf(&b, "%s%s%s<BaseURL>%s</BaseURL>\n", in, step, step, attr(captionsDir+c.Lang+".vtt"))
		fmt.Fprintf(&b, "%s%s</Representation>\n", in, step)
		fmt.Fprintf(&b, "%s</AdaptationSet>\n", in)
	}
	out := make([]byte, 0, len(data)+b.Len())
	out = append(out, data[:lineStart]...)
	out = append(out, b.Bytes()...)
	return append(out, data[lineStart:]...), nil
}

// attr escapes s for an XML attribute value or text.
func attr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
