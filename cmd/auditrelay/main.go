// Command auditrelay relays LaunchDarkly audit-log entries to integration
// endpoints: it filters them with each integration's policy, renders the
// integration's Handlebars templates and delivers the result durably.
//
// Run without a subcommand it opens the console with the engine embedded;
// subcommands cover headless and scripted use.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
