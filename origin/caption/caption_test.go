package caption

import (
	"errors"
	"strings"
	"testing"
)

func TestToWebVTT(t *testing.T) {
	const srt = "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello <i>there</i>\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nSecond\r\nline\r\n"
	vtt, f, err := ToWebVTT([]byte("\uFEFF" + srt))
	if err != nil || f != SRT {
		t.Fatalf("SRT: %v (%s)", err, f)
	}
	got := string(vtt)
	for _, want := range []string{"WEBVTT\n", "00:00:01.000 --> 00:00:02.500", "Hello", "there", "00:00:03.000 --> 00:00:04.000", "Second\nline"} {
		if !strings.Contains(got, want) {
			t.Errorf("converted SRT lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, ",000") {
		t.Errorf("converted SRT kept SRT's comma decimals:\n%s", got)
	}
	// The result is WebVTT that reads back the same.
	if again, f, err := ToWebVTT(vtt); err != nil || f != WebVTT || string(again) != got {
		t.Fatalf("the converted file does not pass as WebVTT: %v", err)
	}

	const vttIn = "WEBVTT - with a title\n\nSTYLE\n::cue { color: yellow }\n\n1\n00:00.000 --> 00:01.000 line:10% align:start\n<v Ann>Hi</v>\n"
	out, f, err := ToWebVTT([]byte("\uFEFF" + vttIn))
	if err != nil || f != WebVTT || string(out) != vttIn {
		t.Fatalf("WebVTT must be kept byte for byte (BOM aside): %v %s\n%s", err, f, out)
	}
}

func TestToWebVTTRefuses(t *testing.T) {
	for name, c := range map[string]struct{ body, reason string }{
		"empty":             {"", "neither WebVTT"},
		"plain text":        {"just some words\n", "neither WebVTT"},
		"not utf-8":         {"WEBVTT\n\n00:00.000 --> 00:01.000\n\xff\xfe\n", "UTF-8"},
		"no cues":           {"WEBVTT\n\nNOTE nothing here\n", "no cues"},
		"bad vtt timing":    {"WEBVTT\n\n00:00.000 --> 00:0x.000\nHi\n", "duration"},
		"vtt timing no end": {"WEBVTT\n\n00:00.000 -->\nHi\n", "incomplete"},
		"srt timing no end": {"1\n00:00:01,000 -->\nHi\n", "incomplete"},
		"bad srt timing":    {"1\n00:00:01,000 --> 00:00:bb,000\nHi\n", "duration"},
		"ends before start": {"1\n00:00:05,000 --> 00:00:01,000\nHi\n", "ends"},
		"zero length":       {"WEBVTT\n\n00:00:05.000 --> 00:00:05.000\nHi\n", "ends"},
		"WEBVTT prefix":     {"WEBVTTX\n\n00:00.000 --> 00:01.000\nHi\n", "line 1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := ToWebVTT([]byte(c.body))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("err = %v, want ErrInvalid saying %q", err, c.reason)
			}
		})
	}
}

func TestLang(t *testing.T) {
	for in, want := range map[string][2]string{
		"en":      {"en", "English"},
		"en-us":   {"en-US", "American English"},
		"FR":      {"fr", "français"},
		"pt-br":   {"pt-BR", "português"},
		"zh-hant": {"zh-Hant", "繁體中文"},
		"de-CH":   {"de-CH", "Schweizer Hochdeutsch"},
	} {
		tag, name, err := Lang(in)
		if err != nil || tag != want[0] || name != want[1] {
			t.Errorf("Lang(%q) = %q, %q, %v; want %q, %q", in, tag, name, err, want[0], want[1])
		}
	}
	for _, bad := range []string{"", "und", "english!", "en_US/../x", "a-very-long-tag-that-cannot-be-a-language"} {
		if _, _, err := Lang(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Lang(%q): %v, want ErrInvalid", bad, err)
		}
	}
}
