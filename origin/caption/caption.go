// Package caption turns what owners upload as captions into what the
// cluster stores: WebVTT text and a canonical BCP 47 language tag.
//
// Uploads are WebVTT or SRT, told apart by their content (browsers and
// tools name and type them loosely). SRT is converted with go-astisub;
// WebVTT is checked with it and kept byte for byte, so the styling and
// positioning astisub does not model survive.
package caption

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/asticode/go-astisub"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// ErrInvalid wraps every refusal; the message says what is wrong in words
// an uploader can act on.
var ErrInvalid = errors.New("invalid caption")

// Format names what an upload was.
type Format string

// Formats an upload can be in.
const (
	WebVTT Format = "webvtt"
	SRT    Format = "srt"
)

var bom = []byte("\uFEFF")

// Detect tells WebVTT from SRT by content: WebVTT must start with the
// "WEBVTT" signature, SRT starts with a cue (a number, then a timing).
func Detect(body []byte) (Format, bool) {
	b := bytes.TrimLeft(bytes.TrimPrefix(body, bom), " \t\r\n")
	if rest, ok := bytes.CutPrefix(b, []byte("WEBVTT")); ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r' || rest[0] == '\n') {
		return WebVTT, true
	}
	if bytes.Contains(b, []byte("-->")) {
		return SRT, true
	}
	return "", false
}

// ToWebVTT checks an upload and returns it as WebVTT, with the format it
// came in. Malformed timings, text that is not UTF-8, cues that end before
// they start and files without a cue are refused with ErrInvalid.
func ToWebVTT(body []byte) (vtt []byte, f Format, err error) {
	if !utf8.Valid(body) {
		return nil, "", fmt.Errorf("%w: the file is not UTF-8 text", ErrInvalid)
	}
	f, ok := Detect(body)
	if f != WebVTT && bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(body, bom), " \t\r\n"), []byte("WEBVTT")) {
		return nil, "", fmt.Errorf("%w: line 1: the WEBVTT signature must be followed by a space or a line break", ErrInvalid)
	}
	if !ok {
		return nil, "", fmt.Errorf("%w: the file is neither WebVTT (it would start with \"WEBVTT\") nor SRT (no cue timings \"-->\" found)", ErrInvalid)
	}
	subs, err := parse(body, f)
	if err != nil {
		return nil, f, err
	}
	if len(subs.Items) == 0 {
		return nil, f, fmt.Errorf("%w: the file holds no cues", ErrInvalid)
	}
	for i, it := range subs.Items {
		if it.StartAt < 0 || it.EndAt <= it.StartAt {
			return nil, f, fmt.Errorf("%w: cue %d ends (%s) before it starts (%s)", ErrInvalid, i+1, it.EndAt, it.StartAt)
		}
	}
	if f == WebVTT {
		return bytes.TrimPrefix(body, bom), f, nil
	}
	var out bytes.Buffer
	if err := subs.WriteToWebVTT(&out); err != nil {
		return nil, f, fmt.Errorf("%w: converting SRT to WebVTT: %w", ErrInvalid, err)
	}
	return out.Bytes(), f, nil
}

// parse runs astisub's reader. astisub v0.34.0 indexes past the end of a
// timing line with nothing after its "-->" and panics; such a file is
// malformed, so the panic becomes a refusal rather than a crashed request.
func parse(body []byte, f Format) (subs *astisub.Subtitles, err error) {
	defer func() {
		if r := recover(); r != nil {
			subs, err = nil, fmt.Errorf("%w: a cue timing line is incomplete (it needs \"start --> end\")", ErrInvalid)
		}
	}()
	if f == WebVTT {
		subs, err = astisub.ReadFromWebVTT(bytes.NewReader(body))
	} else {
		subs, err = astisub.ReadFromSRT(bytes.NewReader(body))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), "astisub: "))
	}
	return subs, nil
}

// LabelOK reports whether label can be a track name: it goes into HLS
// playlists as a quoted string, which cannot hold a double quote or a line
// break, so those and other control characters are refused.
func LabelOK(label string) bool {
	if !utf8.ValidString(label) {
		return false
	}
	for _, r := range label {
		if r == '"' || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// Lang parses a BCP 47 tag and returns it in canonical form ("en-us"
// becomes "en-US") with its name in its own language, the default label.
// The undetermined tag "und" is refused: a track needs a language.
func Lang(s string) (tag, name string, err error) {
	if s == "" || len(s) > 35 {
		return "", "", fmt.Errorf("%w: the language must be a BCP 47 tag such as en, pt-BR or zh-Hant", ErrInvalid)
	}
	t, err := language.Parse(s)
	if err != nil {
		return "", "", fmt.Errorf("%w: %q is not a BCP 47 language tag (such as en, pt-BR or zh-Hant): %w", ErrInvalid, s, err)
	}
	if t == language.Und {
		return "", "", fmt.Errorf("%w: the language %q is undetermined; name one", ErrInvalid, s)
	}
	tag = t.String()
	name = display.Self.Name(t)
	if name == "" {
		name = display.English.Tags().Name(t)
	}
	if name == "" {
		name = tag
	}
	return tag, name, nil
}
