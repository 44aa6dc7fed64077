package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"supportbot/portal/demo"
)

// runDemoPortal serves the demo portal alone until ctx is done.
func runDemoPortal(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo-portal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "address to serve the demo portal on")
	n := fs.Int("demo-customers", 0, "generate this many extra demo customers")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	url, shutdown, err := demo.Listen(ctx, *listen, demo.New(demo.Options{ExtraCustomers: *n}))
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "demo portal serving %s (Ctrl-C stops)\n", url)
	<-ctx.Done()
	return shutdown(context.Background())
}
