package transcode

import (
	"strings"

	"golang.org/x/text/language"
)

// streamLanguage turns a stream's language tag, as containers write it
// (ISO 639-2 in MP4 and Matroska: "eng", "fra", "fre"), into a BCP 47 tag
// in its shortest form ("en", "fr"), which is what the rest of Strata
// speaks (captions, search filters). ffprobe reports it in the stream's
// tags as "language"; Matroska's newer BCP 47 element arrives as
// "LANGUAGE-ietf" or the same key and parses alike. "und" (MP4's default
// for "nobody said"), an empty or an unparseable value are "": a wrong
// language is worse than none, since it becomes a search filter.
func streamLanguage(tags map[string]string) string {
	raw := ""
	for k, v := range tags {
		switch strings.ToLower(k) {
		case "language-ietf":
			raw = v // the more precise of the two when both are there
		case "language":
			if raw == "" {
				raw = v
			}
		}
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	t, err := language.Parse(raw)
	if err != nil || t == language.Und {
		return ""
	}
	// Parse maps three-letter codes to their two-letter form when one
	// exists ("fra" and the bibliographic "fre" both become "fr"). The
	// special codes say there is no single language to filter by: "zxx" no
	// speech, "mul" several, "mis" one without a code, "qaa".."qtz" private
	// use.
	base, _ := t.Base()
	switch b := base.String(); {
	case b == "zxx" || b == "mul" || b == "mis":
		return ""
	case len(b) == 3 && b >= "qaa" && b <= "qtz":
		return ""
	}
	return t.String()
}
