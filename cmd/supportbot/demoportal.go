package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"

	"supportbot/portal/demo"
)

// demoPortalUsage heads the usage of demo-portal; the flags follow.
const demoPortalUsage = `Usage: supportbot demo-portal [flags]

Serves the embedded demo portal alone, until Ctrl-C; run the bot on it with
--portal-url.

Flags:
`

// demoTokenKey derives the embedded demo portal's token key from the bot's
// data key (token.key or --key), so a demo restarted on the same data
// directory accepts the portal tokens kept in its sessions: a login
// survives a restart. HMAC is one-way, so the demo key tells nothing of the
// data key; neither is ever logged.
func demoTokenKey(dataKey []byte) []byte {
	m := hmac.New(sha256.New, dataKey)
	m.Write([]byte("demo-portal-tokens"))
	return m.Sum(nil)
}

// runDemoPortal serves the demo portal alone until ctx is done. It has no
// data directory, so its tokens use a random key: logins last until it
// stops.
func runDemoPortal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo-portal", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8081", "address to serve the demo portal on")
	n := fs.Int("demo-customers", 0, "generate this many extra demo customers")
	if err := parseArgs(fs, demoPortalUsage, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo-portal: unexpected argument %q (supportbot demo-portal -h lists the flags)\n", fs.Arg(0))
		return errUsage
	}
	url, shutdown, err := demo.Listen(ctx, *listen, demo.New(demo.Options{ExtraCustomers: *n}))
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "demo portal serving %s (logins last until it stops; Ctrl-C stops)\n", url)
	<-ctx.Done()
	return shutdown(context.Background())
}
