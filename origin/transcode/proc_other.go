//go:build !unix

package transcode

import "os/exec"

// inOwnProcessGroup: without Unix process groups only the process itself
// is killed on cancellation (exec.CommandContext's default).
func inOwnProcessGroup(cmd *exec.Cmd) {}

// canIsolateNetwork: network namespaces are Linux-only.
const canIsolateNetwork = false

func isolateNetwork(cmd *exec.Cmd) {}

func namespaceDenied(err error) bool { return false }
