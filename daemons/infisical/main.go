// Command infisical is the one binary of the project: the API server
// (infisical server) and the command line (infisical bootstrap, ...). The
// commands live in package daemons/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/infisical-go/engine/daemons/cli"
)

func main() {
	os.Exit(run())
}

// run returns the exit code; it is separate from main so that deferred
// calls run before os.Exit.
func run() int {
	// The first SIGINT/SIGTERM cancels ctx and starts a graceful shutdown;
	// stop restores the default handling, so a second signal ends the
	// process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	return cli.Execute(ctx, os.Args[1:], cli.Options{})
}
