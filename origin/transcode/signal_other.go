//go:build !unix

package transcode

import "os/exec"

// exitSignal: no signals outside Unix.
func exitSignal(ee *exec.ExitError) string { return "" }
