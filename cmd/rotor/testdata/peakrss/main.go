// Command peakrss runs the command in its arguments, its output on stderr,
// and prints the command's peak RSS in KiB and its wall time in
// nanoseconds (from its start to its exit) on stdout; it exits with the
// command's exit code. BenchmarkCommand builds and starts it so that the
// command is started by a small process (see runMeasured there).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peakrss COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		if exit, ok := errors.AsType[*exec.ExitError](err); ok {
			os.Exit(exit.ExitCode())
		}
		os.Exit(1)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "peakrss: no resource usage")
		os.Exit(1)
	}
	fmt.Println(ru.Maxrss, elapsed.Nanoseconds())
}
