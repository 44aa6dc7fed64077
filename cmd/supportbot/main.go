// Command supportbot runs the support bot: on Telegram when a token is
// configured, otherwise as a chat in the terminal, on the embedded demo
// portal unless a portal URL is given.
//
// Usage:
//
//	supportbot [flags]                          run the bot
//	supportbot demo-portal --listen host:port   serve the demo portal alone
//	supportbot backup --to FILE                 copy the session database, running or not
//	supportbot help                             list the commands and flags
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(mainWithArgs()) }

// mainWithArgs runs the command with os.Args and returns its exit code.
func mainWithArgs() int {
	// The first SIGINT or SIGTERM starts a graceful shutdown (see Run); once
	// it has begun, a second one ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(os.Stderr, "supportbot:", err)
		return 1
	}
}

// errUsage reports a command line that cannot run, once the reason has
// been printed; the process exits 2.
var errUsage = errors.New("usage")

// commands are the subcommands run dispatches.
var commands = []string{"demo-portal", "backup", "help"}

// mainUsage heads the usage of a plain run; the flags follow.
const mainUsage = `Usage:
  supportbot [flags]              run the bot: a chat in this terminal, or on Telegram with --telegram-token
  supportbot demo-portal [flags]  serve the embedded demo portal alone
  supportbot backup --to FILE     copy the session database, also while the bot runs
  supportbot help                 print this help

"supportbot <command> -h" lists a command's flags.

Flags of a run (an environment variable named in parentheses is the fallback):
`

// run dispatches the subcommands. Asking for help (-h, --help, help) is
// no error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "demo-portal":
			return runDemoPortal(ctx, args[1:], stdout, stderr)
		case "backup":
			return runBackup(ctx, args[1:], stdout, stderr)
		case "help":
			args = []string{"-h"}
		}
	}
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = stdin, stdout, stderr
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Open(ctx); err != nil {
		m.Close() // what Open started
		return err
	}
	runErr := m.Run(ctx)
	if err := m.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// parseArgs parses args with fs, whose usage starts with head. -h or
// --help prints the usage to stdout and returns flag.ErrHelp; a bad flag
// prints the reason and the usage to stderr and returns errUsage.
// Arguments left after the flags are the caller's to check.
func parseArgs(fs *flag.FlagSet, head string, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(orStderr(stderr))
	fs.Usage = func() {} // printed below, where it belongs
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(fs, head, stdout)
		return flag.ErrHelp
	case err != nil:
		printUsage(fs, head, orStderr(stderr))
		return errUsage
	}
	return nil
}

// printUsage prints head and fs's flags to w (os.Stdout if nil).
func printUsage(fs *flag.FlagSet, head string, w io.Writer) {
	if w == nil {
		w = os.Stdout
	}
	out := fs.Output()
	defer fs.SetOutput(out)
	fs.SetOutput(w)
	fmt.Fprint(w, head)
	fs.PrintDefaults()
}

// orStderr returns w, or os.Stderr if w is nil.
func orStderr(w io.Writer) io.Writer {
	if w == nil {
		return os.Stderr
	}
	return w
}
