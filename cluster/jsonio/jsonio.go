// Package jsonio reads and writes the JSON bodies of Strata's HTTP
// handlers and RPCs with encoding/json's (v1) semantics, through
// go-json-experiment's pooled encoder and decoder.
//
// json/v1's NewEncoder and NewDecoder allocate their state on every call
// (about 3-4 KB each). On the metadata write path (decode a PATCH, encode
// the video it returns) that was ~6 % of the leader's CPU at 16 writers;
// the pooled paths cost a third to a half of it.
package jsonio

import (
	"fmt"
	"io"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

var (
	writeOpts  = json.JoinOptions(jsonv1.DefaultOptionsV1(), jsontext.EscapeForHTML(false))
	readOpts   = jsonv1.DefaultOptionsV1()
	strictOpts = json.JoinOptions(jsonv1.DefaultOptionsV1(), json.RejectUnknownMembers(true))
	newline    = []byte{'\n'}
)

// Write encodes v to w and ends it with a newline, byte for byte what
// json/v1's Encoder with SetEscapeHTML(false) writes.
func Write(w io.Writer, v any) error {
	if err := json.MarshalWrite(w, v, writeOpts); err != nil {
		return err
	}
	_, err := w.Write(newline)
	return err
}

// Read decodes the one JSON value r holds into v. Unlike json/v1's
// Decoder it refuses anything but white space after the value, so a body
// with trailing bytes is an error rather than silently half read.
func Read(r io.Reader, v any) error {
	return read(r, v, readOpts)
}

// ReadStrict is Read that also refuses an object member v has no field
// for (json/v1's DisallowUnknownFields).
func ReadStrict(r io.Reader, v any) error {
	return read(r, v, strictOpts)
}

// read returns the reader's own error when reading failed (a body over
// http.MaxBytesReader's limit, a broken connection), so callers can
// tell it with errors.As; jsontext reports it as text only.
func read(r io.Reader, v any, opts json.Options) error {
	er := errRecorder{r: r}
	err := json.UnmarshalRead(&er, v, opts)
	if err != nil && er.err != nil {
		return fmt.Errorf("read the body: %w", er.err)
	}
	return err
}

type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
