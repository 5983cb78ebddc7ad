//go:build unix

package transcode

import (
	"os/exec"
	"syscall"
)

// exitSignal names the signal that ended the process ("SIGKILL"), or ""
// when it exited on its own.
func exitSignal(ee *exec.ExitError) string {
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return ""
	}
	switch ws.Signal() {
	case syscall.SIGXCPU:
		return "SIGXCPU"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGBUS:
		return "SIGBUS"
	}
	return ws.Signal().String()
}
