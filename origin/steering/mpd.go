package steering

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SteerMPD adds DASH-IF content steering to an MPD: one MPD-level BaseURL
// per pathway (serviceLocation = the pathway ID, the URL of the video's
// folder on that edge) and a ContentSteering element naming the steering
// server and the first pathway as the default, spliced in before the first
// Period; the rest stays byte for byte (as the caption rewrite does). An
// MPD that has MPD-level BaseURLs of its own is left alone: the segments
// would resolve against ours instead.
func SteerMPD(data []byte, pathways []Pathway, serverURI string) ([]byte, error) {
	if len(pathways) == 0 {
		return data, nil
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	insertAt, depth := -1, 0
	for insertAt < 0 {
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
			depth++
			if depth == 2 && t.Name.Local == "BaseURL" {
				return data, nil
			}
			if depth == 2 && t.Name.Local == "Period" {
				insertAt = int(off)
			}
		case xml.EndElement:
			depth--
		}
	}
	if insertAt < 0 {
		return nil, errors.New("parse MPD: no Period")
	}
	lineStart := bytes.LastIndexByte(data[:insertAt], '\n') + 1
	indent := string(data[lineStart:insertAt])
	if strings.TrimLeft(indent, " \t") != "" {
		lineStart, indent = insertAt, ""
	}
	var b bytes.Buffer
	if lineStart == insertAt && indent == "" {
		b.WriteByte('\n')
	}
	for _, p := range pathways {
		fmt.Fprintf(&b, "%s<BaseURL serviceLocation=\"%s\">%s</BaseURL>\n", indent, xmlText(p.ID), xmlText(p.Base))
	}
	fmt.Fprintf(&b, "%s<ContentSteering defaultServiceLocation=\"%s\" queryBeforeStart=\"true\">%s</ContentSteering>\n",
		indent, xmlText(pathways[0].ID), xmlText(serverURI))
	out := make([]byte, 0, len(data)+b.Len())
	out = append(out, data[:lineStart]...)
	out = append(out, b.Bytes()...)
	return append(out, data[lineStart:]...), nil
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
