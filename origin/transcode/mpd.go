package transcode

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// No DASH MPD library is available from the module proxy here, and the
// edits Strata makes to ffmpeg's MPD are few (moving Representations from
// one MPD into another, renaming them), so the MPD is handled as a plain
// XML element tree. The tree is read with RawToken, which keeps namespace
// prefixes as written ("xsi:schemaLocation"), so writing it back gives the
// same document apart from whitespace.

// xmlNode is one element with its attributes, children and text.
type xmlNode struct {
	name     string // with its prefix, e.g. "MPD", "xsi:foo"
	attrs    []xml.Attr
	children []*xmlNode
	text     string // character data directly inside, trimmed
}

func attrName(a xml.Attr) string {
	if a.Name.Space != "" {
		return a.Name.Space + ":" + a.Name.Local
	}
	return a.Name.Local
}

// attr returns the value of the named attribute, or "".
func (n *xmlNode) attr(name string) string {
	for _, a := range n.attrs {
		if attrName(a) == name {
			return a.Value
		}
	}
	return ""
}

// setAttr sets or adds an attribute.
func (n *xmlNode) setAttr(name, value string) {
	for i, a := range n.attrs {
		if attrName(a) == name {
			n.attrs[i].Value = value
			return
		}
	}
	space, local, ok := strings.Cut(name, ":")
	if !ok {
		space, local = "", name
	}
	n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Space: space, Local: local}, Value: value})
}

// find returns the descendants (depth first, n excluded) named name for
// which match, if not nil, holds.
func (n *xmlNode) find(name string, match func(*xmlNode) bool) []*xmlNode {
	var out []*xmlNode
	for _, c := range n.children {
		if c.name == name && (match == nil || match(c)) {
			out = append(out, c)
		}
		out = append(out, c.find(name, match)...)
	}
	return out
}

// parseXMLTree reads a document into its root element.
func parseXMLTree(data []byte) (*xmlNode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xmlNode{name: t.Name.Local, attrs: append([]xml.Attr(nil), t.Attr...)}
			if t.Name.Space != "" {
				n.name = t.Name.Space + ":" + t.Name.Local
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			} else if root == nil {
				root = n
			} else {
				return nil, errors.New("xml: more than one root element")
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, errors.New("xml: unbalanced end element")
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += strings.TrimSpace(string(t))
			}
		}
	}
	if root == nil || len(stack) != 0 {
		return nil, errors.New("xml: no complete root element")
	}
	return root, nil
}

// encode writes the tree as an indented document.
func (n *xmlNode) encode() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	n.write(&b, 0)
	return b.Bytes()
}

func (n *xmlNode) write(b *bytes.Buffer, depth int) {
	indent := strings.Repeat("\t", depth)
	b.WriteString(indent + "<" + n.name)
	for _, a := range n.attrs {
		b.WriteString(" " + attrName(a) + `="`)
		xml.EscapeText(b, []byte(a.Value))
		b.WriteString(`"`)
	}
	switch {
	case len(n.children) == 0 && n.text == "":
		b.WriteString(" />\n")
	case len(n.children) == 0:
		b.WriteString(">")
		xml.EscapeText(b, []byte(n.text))
		b.WriteString("</" + n.name + ">\n")
	default:
		b.WriteString(">\n")
		if n.text != "" {
			b.WriteString(indent + "\t")
			xml.EscapeText(b, []byte(n.text))
			b.WriteString("\n")
		}
		for _, c := range n.children {
			c.write(b, depth+1)
		}
		b.WriteString(indent + "</" + n.name + ">\n")
	}
}

func isVideoSet(n *xmlNode) bool { return n.attr("contentType") == "video" }

// mergeVideoMPD returns base with the video Representations of extra put
// in front of base's own (extra holds the larger rungs). With extra codecs
// each MPD has one video AdaptationSet per codec; sets are matched by codec
// family, and a set of extra whose codec base lacks (an extra codec only
// on the large rungs) is moved over whole, under a free id. Each moved
// Representation is renumbered by ids (old id → new id), and its segment
// template names its files literally, since $RepresentationID$ would now
// expand to the new id.
func mergeVideoMPD(base, extra []byte, ids map[string]string) ([]byte, error) {
	b, err := parseXMLTree(base)
	if err != nil {
		return nil, fmt.Errorf("first stage MPD: %w", err)
	}
	e, err := parseXMLTree(extra)
	if err != nil {
		return nil, fmt.Errorf("second stage MPD: %w", err)
	}
	bSets := b.find("AdaptationSet", isVideoSet)
	eSets := e.find("AdaptationSet", isVideoSet)
	periods := b.find("Period", nil)
	if len(bSets) == 0 || len(eSets) == 0 || len(periods) != 1 {
		return nil, fmt.Errorf("MPDs have %d and %d video adaptation sets and %d periods, want some and one", len(bSets), len(eSets), len(periods))
	}
	byFamily := map[string]*xmlNode{}
	nextID := 0
	for _, set := range b.find("AdaptationSet", nil) {
		if id, err := strconv.Atoi(set.attr("id")); err == nil {
			nextID = max(nextID, id+1)
		}
	}
	for _, set := range bSets {
		f := setFamily(set)
		if byFamily[f] != nil {
			return nil, fmt.Errorf("first stage MPD has two %s video adaptation sets", f)
		}
		byFamily[f] = set
	}
	moved := 0
	for _, from := range eSets {
		reps, err := renumberReps(from, ids)
		if err != nil {
			return nil, err
		}
		moved += len(reps)
		into := byFamily[setFamily(from)]
		if into == nil {
			from.setAttr("id", strconv.Itoa(nextID))
			nextID++
			periods[0].children = append(periods[0].children, from)
			continue
		}
		// Keep the non-Representation children (roles, descriptors) of
		// the base set where they were, ahead of the representations.
		var rest, own []*xmlNode
		for _, c := range into.children {
			if c.name == "Representation" {
				own = append(own, c)
			} else {
				rest = append(rest, c)
			}
		}
		into.children = append(append(rest, reps...), own...)
		for _, k := range []string{"maxWidth", "maxHeight"} {
			a, _ := strconv.Atoi(into.attr(k))
			c, _ := strconv.Atoi(from.attr(k))
			if c > a {
				into.setAttr(k, strconv.Itoa(c))
			}
		}
	}
	if moved != len(ids) {
		return nil, fmt.Errorf("second stage MPD has %d video representations, want %d", moved, len(ids))
	}
	return b.encode(), nil
}

// setFamily is the codec family of a video AdaptationSet, from its (or
// its first Representation's) codecs attribute.
func setFamily(set *xmlNode) string {
	if c := set.attr("codecs"); c != "" {
		return codecFamily(c)
	}
	for _, r := range set.children {
		if r.name == "Representation" {
			return codecFamily(r.attr("codecs"))
		}
	}
	return ""
}

// renumberReps gives set's Representations their new ids and makes their
// segment templates literal, returning them in order.
func renumberReps(set *xmlNode, ids map[string]string) ([]*xmlNode, error) {
	var reps []*xmlNode
	for _, c := range set.children {
		if c.name != "Representation" {
			continue
		}
		old := c.attr("id")
		id, ok := ids[old]
		if !ok {
			return nil, fmt.Errorf("second stage MPD: no new id for representation %q", old)
		}
		c.setAttr("id", id)
		for _, tpl := range c.find("SegmentTemplate", nil) {
			for _, k := range []string{"initialization", "media"} {
				if v := tpl.attr(k); v != "" {
					tpl.setAttr(k, strings.ReplaceAll(v, "$RepresentationID$", old))
				}
			}
		}
		reps = append(reps, c)
	}
	return reps, nil
}
