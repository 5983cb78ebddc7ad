package media

import "testing"

func TestSplitPath(t *testing.T) {
	for in, want := range map[string]string{
		"/media/abc/master.m3u8":          "abc|master.m3u8",
		"/media/abc/chunk-1-00001.m4s":    "abc|chunk-1-00001.m4s",
		"/media/abc/sub/media_0.m3u8":     "abc|sub/media_0.m3u8",
		"/media/abc/../def/master.m3u8":   "",
		"/media/abc/sub/../../etc/passwd": "",
		"/media/../abc/master.m3u8":       "",
		"/media/abc/.hidden":              "",
		"/media/abc/":                     "",
		"/media/abc":                      "",
		"/media//master.m3u8":             "",
		"/media/abc//master.m3u8":         "",
		"/media/abc/a%2fb":                "",
		"/media/abc/master.m3u8?x=1":      "",
		"/other/abc/master.m3u8":          "",
		"/media/ab c/master.m3u8":         "",
		"/media/abc/sub/.attrs":           "",
		"/media/abc/seg\x00.m4s":          "",
	} {
		id, file, ok := splitPath(in)
		got := ""
		if ok {
			got = id + "|" + file
		}
		if got != want {
			t.Errorf("splitPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCacheControl(t *testing.T) {
	for file, want := range map[string]string{
		"chunk-1-00001.m4s": "public, max-age=31536000, immutable",
		"init-1.m4s":        "public, max-age=31536000, immutable",
		"master.m3u8":       "public, no-cache",
		"manifest.mpd":      "public, no-cache",
		"poster.jpg":        "public, no-cache",
	} {
		if got := cacheControl(file); got != want {
			t.Errorf("cacheControl(%q) = %q, want %q", file, got, want)
		}
	}
}
