// Command supportbot runs the support bot: on Telegram when a token is
// configured, otherwise as a chat in the terminal, on the embedded demo
// portal unless a portal URL is given.
//
// Usage:
//
//	supportbot [flags]                          run the bot
//	supportbot demo-portal --listen host:port   serve the demo portal alone
//	supportbot load --users N --duration D      measure the bot under load
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "supportbot:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run dispatches the subcommands.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "demo-portal":
			return runDemoPortal(ctx, args[1:], stderr)
		case "load":
			return runLoad(ctx, args[1:], stdout, stderr)
		}
	}
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = stdin, stdout, stderr
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	runErr := m.Run(ctx)
	if err := m.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
