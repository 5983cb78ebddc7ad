package jsonio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	jsonv1 "github.com/go-json-experiment/json/v1"
)

type record struct {
	ID    string   `json:"id"`
	Title string   `json:"title,omitempty"`
	Tags  []string `json:"tags"`
	Size  int64    `json:"size"`
	Note  *string  `json:"note,omitempty"`
}

// The handlers' answers must not change shape: nil slices stay null,
// omitempty keeps v1's meaning, <>& are not escaped.
func TestWriteMatchesV1Encoder(t *testing.T) {
	for _, v := range []any{
		record{ID: "a<b>&c", Tags: nil},
		record{ID: "x", Title: "héllo \u2028", Tags: []string{}, Size: -3},
		map[string]any{"b": 1, "a": []int(nil)},
		nil,
	} {
		var want, got bytes.Buffer
		enc := jsonv1.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if err := Write(&got, v); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("Write(%#v) = %q, json/v1 wrote %q", v, got.String(), want.String())
		}
	}
}

func TestReadKeepsV1Semantics(t *testing.T) {
	var r record
	// v1 matches member names without regard to case.
	if err := Read(strings.NewReader(`{"ID":"a","tags":["x"],"size":7}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != "a" || len(r.Tags) != 1 || r.Size != 7 {
		t.Fatalf("decoded %+v", r)
	}
	if err := Read(strings.NewReader(`{"id":"a","extra":1}`), &r); err != nil {
		t.Fatalf("Read refused an unknown member: %v", err)
	}
}

func TestReadRefusesBadBodies(t *testing.T) {
	for name, body := range map[string]string{
		"trailing data":  `{"id":"a"} {"id":"b"}`,
		"truncated":      `{"id":"a"`,
		"empty":          ``,
		"wrong type":     `{"size":"seven"}`,
		"unknown member": `{"id":"a","extra":1}`,
	} {
		var r record
		if err := ReadStrict(strings.NewReader(body), &r); err == nil {
			t.Errorf("%s: ReadStrict(%q) accepted it: %+v", name, body, r)
		}
	}
	if err := ReadStrict(strings.NewReader(" {\"id\":\"a\"}\n"), new(record)); err != nil {
		t.Errorf("white space around the value: %v", err)
	}
}

func TestReadPassesTheReadersError(t *testing.T) {
	boom := errors.New("body too large")
	err := Read(io.MultiReader(strings.NewReader(`{"id":"`), errReader{boom}), new(record))
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the reader's", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
