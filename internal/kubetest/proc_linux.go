package kubetest

import (
	"os/exec"
	"syscall"
)

var sigZero = syscall.Signal(0)

// setDeathSignal has the kernel kill the child when the test binary dies,
// so a crashed or killed test run leaves no server behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
