package media

import (
	"strings"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/model"
)

// TestRewriteMPD: the text AdaptationSets go before </Period>, indented
// like their siblings, with ids after the highest in use and escaped
// values; every other byte is where it was.
func TestRewriteMPD(t *testing.T) {
	const in = `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static">
	<Period id="0" start="PT0.0S">
		<AdaptationSet id="0" contentType="video"><Representation id="0" bandwidth="1"/></AdaptationSet>
		<AdaptationSet id="3" contentType="audio"><Representation id="1" bandwidth="1"/></AdaptationSet>
	</Period>
</MPD>
`
	caps := []model.Caption{{Lang: "en", Label: `Eng & <b>`, SizeBytes: 1000, UpdatedAt: time.Now()}}
	out, err := rewriteMPD([]byte(in), caps, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(in, "\t</Period>", `		<AdaptationSet id="4" contentType="text" mimeType="text/vtt" lang="en">
			<Label>Eng &amp; &lt;b&gt;</Label>
			<Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>
			<Representation id="caption-en" bandwidth="2000">
				<BaseURL>captions/en.vtt</BaseURL>
			</Representation>
		</AdaptationSet>
	</Period>`, 1)
	if string(out) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	for name, bad := range map[string]string{
		"not XML":   "<MPD><Period></MPD>",
		"no Period": `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"></MPD>`,
	} {
		if _, err := rewriteMPD([]byte(bad), caps, 4); err == nil {
			t.Errorf("%s: rewritten", name)
		}
	}
}

func TestCaptionPlaylist(t *testing.T) {
	got := string(captionPlaylist("pt-BR", 12.2))
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:13\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:12.200,\npt-BR.vtt\n#EXT-X-ENDLIST\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}
