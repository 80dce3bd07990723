package harness

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel stop the server if the test binary dies
// (a panic or go test's timeout), so that no server outlives its suite.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
