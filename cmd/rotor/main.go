// Command rotor rotates credentials with the protocol of AWS Secrets Manager.
// Everything but process setup lives in internal/cli; this is the only place
// that exits.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/rotorhq/rotor/internal/startgc" // first: the collector is off while packages initialise

	"github.com/rotorhq/rotor/internal/cli"
)

func main() {
	startgc.Resume()
	// The first SIGINT or SIGTERM cancels ctx: a rotation stops between
	// steps (the next run resumes it) and the server shuts down gracefully.
	// After that the signals are no longer caught, so a second one ends the
	// process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Main(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
