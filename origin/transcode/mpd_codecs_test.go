package transcode

import (
	"strings"
	"testing"
)

// With extra codecs each stage has one video set per codec; the second
// stage's sets join the first's by codec family, and a codec the first
// stage lacks (extra codec on large rungs only) comes over as a set of
// its own.
func TestMergeVideoMPDCodecSets(t *testing.T) {
	base := `<MPD><Period id="0">
		<AdaptationSet id="0" contentType="video" maxWidth="426"><Representation id="0" codecs="avc1.64000d" width="426"/></AdaptationSet>
		<AdaptationSet id="1" contentType="audio"><Representation id="1" codecs="mp4a.40.2"/></AdaptationSet>
		<AdaptationSet id="2" contentType="video" maxWidth="426"><Representation id="2" codecs="av01.0.00M.08" width="426"/></AdaptationSet>
	</Period></MPD>`
	extra := `<MPD><Period id="0">
		<AdaptationSet id="0" contentType="video" maxWidth="640"><Representation id="0" codecs="avc1.64001e" width="640"/></AdaptationSet>
		<AdaptationSet id="1" contentType="video" maxWidth="640"><Representation id="1" codecs="av01.0.01M.08" width="640"/></AdaptationSet>
		<AdaptationSet id="2" contentType="video" maxWidth="640"><Representation id="2" codecs="hvc1.1.6.L90.90" width="640"/></AdaptationSet>
	</Period></MPD>`
	got, err := mergeVideoMPD([]byte(base), []byte(extra), map[string]string{"0": "3", "1": "4", "2": "5"})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := parseXMLTree(got)
	if err != nil {
		t.Fatal(err)
	}
	var sets []string
	for _, set := range tree.find("AdaptationSet", isVideoSet) {
		var reps []string
		for _, r := range set.find("Representation", nil) {
			reps = append(reps, r.attr("id")+":"+codecFamily(r.attr("codecs")))
		}
		sets = append(sets, set.attr("id")+"("+set.attr("maxWidth")+")="+strings.Join(reps, ","))
	}
	want := "0(640)=3:h264,0:h264 2(640)=4:av1,2:av1 3(640)=5:hevc"
	if strings.Join(sets, " ") != want {
		t.Errorf("video sets %v, want %s\n%s", sets, want, got)
	}
	if _, err := mergeVideoMPD([]byte(base), []byte(extra), map[string]string{"0": "3", "1": "4"}); err == nil {
		t.Error("a representation without a new id was accepted")
	}
}
