package transcode

import (
	"context"
	"encoding/json"
	"testing"
)

func TestStreamLanguage(t *testing.T) {
	for _, c := range []struct {
		tags map[string]string
		want string
	}{
		{map[string]string{"language": "eng"}, "en"},
		{map[string]string{"language": "fra"}, "fr"},
		{map[string]string{"language": "fre"}, "fr"}, // ISO 639-2/B
		{map[string]string{"language": "ger"}, "de"},
		{map[string]string{"language": "jpn"}, "ja"},
		{map[string]string{"language": "pt-BR"}, "pt-BR"},
		{map[string]string{"LANGUAGE": "spa"}, "es"},
		{map[string]string{"language": "eng", "LANGUAGE-ietf": "en-GB"}, "en-GB"},
		{map[string]string{"language": "und"}, ""},
		{map[string]string{"language": "zxx"}, ""},
		{map[string]string{"language": "mul"}, ""},
		{map[string]string{"language": "qaa"}, ""},
		{map[string]string{"language": "english"}, ""},
		{map[string]string{"language": " "}, ""},
		{map[string]string{"handler_name": "SoundHandler"}, ""},
		{nil, ""},
	} {
		if got := streamLanguage(c.tags); got != c.want {
			t.Errorf("streamLanguage(%v) = %q, want %q", c.tags, got, c.want)
		}
	}
}

// TestInterpretProbeLanguage: the language is the chosen audio stream's,
// not another stream's.
func TestInterpretProbeLanguage(t *testing.T) {
	const js = `{"streams":[
		{"index":0,"codec_type":"video","codec_name":"h264","width":64,"height":64,"avg_frame_rate":"25/1","tags":{"language":"eng"}},
		{"index":1,"codec_type":"audio","codec_name":"aac","channels":2,"tags":{"language":"ger"}},
		{"index":2,"codec_type":"audio","codec_name":"aac","channels":2,"disposition":{"default":1},"tags":{"language":"fra"}}],
		"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"10.0","size":"1000"}}`
	var o ffprobeOutput
	if err := json.Unmarshal([]byte(js), &o); err != nil {
		t.Fatal(err)
	}
	p, err := interpretProbe(DefaultConfig(), &o, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if p.AudioStream != 2 || p.Language != "fr" {
		t.Fatalf("audio stream %d language %q, want 2 and fr", p.AudioStream, p.Language)
	}
}

// TestProbeFileLanguage reads the tag ffmpeg writes into a real file, and
// MP4's default "und" as none.
func TestProbeFileLanguage(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	for name, c := range map[string]struct {
		extra []string
		want  string
	}{
		"french":   {[]string{"-metadata:s:a:0", "language=fra"}, "fr"},
		"untagged": {nil, ""},
	} {
		t.Run(name, func(t *testing.T) {
			path := makeClip(t, dir, name, clipOpts{w: 160, h: 90, seconds: 1, video: true, audio: true, extra: c.extra})
			p, err := ProbeFile(context.Background(), testConfig(), path)
			if err != nil {
				t.Fatal(err)
			}
			if p.Language != c.want {
				t.Fatalf("language %q, want %q", p.Language, c.want)
			}
		})
	}
}
