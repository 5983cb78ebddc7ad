package transcode

import (
	"errors"
	"os/exec"
	"syscall"
)

// inOwnProcessGroup starts cmd as the leader of a new process group and
// makes cancellation kill the whole group, not just the leader: ffmpeg may
// be run through a wrapper script (nice, a container shim, a test stub)
// whose children would otherwise survive and keep the CPU busy. On Linux
// the kernel also kills ffmpeg when the node dies (kill -9, OOM), so a
// restarted node does not find an orphan still burning both cores.
func inOwnProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		// Negative pid: the group whose id is the leader's pid.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// canIsolateNetwork: Linux has network namespaces.
const canIsolateNetwork = true

// isolateNetwork makes cmd start in a new network namespace, which holds
// only a loopback interface that is down: no route, no DNS, no abstract
// Unix sockets of the host. Must follow inOwnProcessGroup.
func isolateNetwork(cmd *exec.Cmd) {
	cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWNET
}

// namespaceDenied reports whether Start failed because this process may
// not create namespaces (EPERM without CAP_SYS_ADMIN; EINVAL or ENOSPC
// under some seccomp profiles and namespace quotas).
func namespaceDenied(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC)
}
