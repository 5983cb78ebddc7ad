package edge

import (
	"path"
	"strings"
)

// splitPath reads /media/{id}/{file}, refusing anything that could leave
// the video's prefix. It matches the origin's rule, so the edge never
// caches under a name the origin would not serve.
func splitPath(p string) (id, file string, ok bool) {
	rest, found := strings.CutPrefix(p, "/media/")
	if !found {
		return "", "", false
	}
	id, file, found = strings.Cut(rest, "/")
	if !found || id == "" || file == "" || !safeName(id) {
		return "", "", false
	}
	if strings.Contains(file, "..") || path.Clean("/"+file) != "/"+file {
		return "", "", false
	}
	for part := range strings.SplitSeq(file, "/") {
		if !safeName(part) {
			return "", "", false
		}
	}
	return id, file, true
}

func safeName(s string) bool {
	if s == "" || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
