package transcode

import (
	"errors"
	"fmt"
)

// InputError means the uploaded file itself is unacceptable: it is not a
// single audio/video file we can read, or it is damaged. Retrying will not
// help, so callers should mark the upload as failed and show Reason to the
// person who uploaded it. Every other error returned by this package
// (ffmpeg crashed, a timeout, a full disk, a cancelled context) is an ordinary
// wrapped error that may succeed on retry.
type InputError struct {
	// Reason is one short sentence meant for the uploader, e.g.
	// "the file is empty". It never contains server paths.
	Reason string
}

func (e *InputError) Error() string { return "unusable input: " + e.Reason }

// inputErrorf builds an *InputError; it exists so refusals read alike.
func inputErrorf(format string, args ...any) error {
	return &InputError{Reason: fmt.Sprintf(format, args...)}
}

// IsInputError reports whether err (or anything it wraps) is an *InputError.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}
