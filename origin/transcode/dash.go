package transcode

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// dashTemplateVar matches $RepresentationID$, $Number%05d$ and friends.
var dashTemplateVar = regexp.MustCompile(`\$[A-Za-z]*(%0\d+d)?\$`)

// checkManifest makes sure the MPD references only plain relative file
// names (no local path, no scheme), so the directory can be published
// anywhere as it is.
func checkManifest(outDir string) error {
	data, err := os.ReadFile(filepath.Join(outDir, manifestName))
	if err != nil {
		return fmt.Errorf("dash manifest: %w", err)
	}
	if bytes.Contains(data, []byte(outDir)) {
		return errors.New("dash manifest names the output directory")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	inBaseURL := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("dash manifest: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inBaseURL = t.Name.Local == "BaseURL"
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "initialization", "media", "sourceURL", "href":
					if ref := dashTemplateVar.ReplaceAllString(a.Value, "x"); !isPlainRelative(ref) {
						return fmt.Errorf("dash manifest: %s=%q is not a relative file name", a.Name.Local, a.Value)
					}
				}
			}
		case xml.CharData:
			if inBaseURL && strings.TrimSpace(string(t)) != "" {
				return fmt.Errorf("dash manifest has a BaseURL %q", strings.TrimSpace(string(t)))
			}
		case xml.EndElement:
			inBaseURL = false
		}
	}
}
