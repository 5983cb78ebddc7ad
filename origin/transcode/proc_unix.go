//go:build unix && !linux

package transcode

import (
	"os/exec"
	"syscall"
)

// inOwnProcessGroup starts cmd as the leader of a new process group and
// makes cancellation kill the whole group, not just the leader: ffmpeg may
// be run through a wrapper script (nice, a container shim, a test stub)
// whose children would otherwise survive and keep the CPU busy.
func inOwnProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Negative pid: the group whose id is the leader's pid.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// canIsolateNetwork: network namespaces are Linux-only.
const canIsolateNetwork = false

func isolateNetwork(cmd *exec.Cmd) {}

func namespaceDenied(err error) bool { return false }
