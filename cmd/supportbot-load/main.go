// Command supportbot-load measures the whole support bot under load: the
// webhook handler, the engine and flows, durable bbolt commits, the demo
// portal over HTTP and the Telegram sender, all in this process, driven by
// simulated customers through a fake Bot API.
//
// Usage:
//
//	supportbot-load --users 200 --duration 10s             closed loop: each customer sends, waits for the reply, goes on
//	supportbot-load --rush --users 2000 --duration 30s     a rush: customers think ~1 s between steps; impatient ones retry
//	supportbot-load --hung 8 --users 40 --duration 8s      /help latency while 8 chats' portal calls hang
//
// It wires the bot the way cmd/supportbot does in webhook mode (see bot.go),
// with Telegram's rate limits lifted, and reports throughput, the latency
// of a step split into its parts, the Bot API calls and CPU time per step,
// and peak memory.
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
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "supportbot-load:", err)
		os.Exit(1)
	}
}

// errUsage reports a command line that cannot run, once the reason has
// been printed; the process exits 2.
var errUsage = errors.New("usage")

const usage = `Usage: supportbot-load [flags]

Runs the bot in webhook mode against an in-process fake Bot API with --users
simulated customers, each tracking an order as a guest again and again:
/menu, Track, Continue as a guest, order number, email (the reply shows the
shipment).

By default each customer waits for the bot's reply and takes the next step
at once (a closed loop: it measures how much the bot can do). With --rush
they think about --think between steps instead (about one update a second
each), and the --impatient share of them send their last update again when
no reply comes within --patience, as people do.

Telegram's rate limits (1 message/s per chat in bursts of 3, 30/s overall)
are lifted for the run, so it measures what the bot can do; in production
those limits apply and bound delivery long before the bot does
(--telegram-limits keeps them, enforced by the fake Bot API with 429s).

Flags:
`

// run parses the command line, runs the load and prints the report. It
// returns an error when the run had errors.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := config{
		Users: 50, Duration: 10 * time.Second, DemoCustomers: -1, StepTimeout: 10 * time.Second,
		Think: time.Second, Impatient: 0.2, Patience: 3 * time.Second,
	}
	fs := flag.NewFlagSet("supportbot-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below: -h to stdout, a mistake to stderr
	printUsage := func(w io.Writer) {
		fs.SetOutput(w)
		fmt.Fprint(w, usage)
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.Users, "users", cfg.Users, "simulated customers, each running conversations back to back")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long customers start new steps")
	fs.IntVar(&cfg.DemoCustomers, "demo-customers", cfg.DemoCustomers, "generated demo customers (-1 = one per user); users beyond them track the seeded guest orders")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "database directory (default: a new temporary directory, removed afterwards)")
	fs.IntVar(&cfg.Workers, "workers", 0, "the Telegram channel's Workers option, which bounds typing indicators in flight (0 = its default); updates are not shared out among workers: each busy chat runs on its own goroutine")
	fs.DurationVar(&cfg.StepTimeout, "step-timeout", cfg.StepTimeout, "how long a customer waits for a reply: then an error, or with --rush the customer gives up the conversation")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof -tagfocus part=bot)")
	fs.BoolVar(&cfg.Rush, "rush", false, "customers think between steps (--think) and the impatient retry (--impatient, --patience)")
	fs.DurationVar(&cfg.Think, "think", cfg.Think, "with --rush: mean think time between a reply and the next step (uniform within ±50%)")
	fs.Float64Var(&cfg.Impatient, "impatient", cfg.Impatient, "with --rush: share of customers (0 to 1) who send their last update again when no reply comes")
	fs.BoolVar(&cfg.TelegramLimits, "telegram-limits", false, "keep Telegram's rate limits: the fake Bot API answers 429 beyond 30 messages/s in all or 1/s per chat (burst 3), and the bot keeps its default limits")
	fs.IntVar(&cfg.Hung, "hung", 0, "add that many customers whose guest lookups hang at the portal until the run ends (the portal client retries a hung call a few times: keep --duration to some seconds); the --users customers then send /help")
	fs.DurationVar(&cfg.Patience, "patience", cfg.Patience, "with --rush: how long an impatient customer waits before sending again (at most twice a step)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return err
		}
		printUsage(stderr)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "supportbot-load: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	res, err := load(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	res.print(stdout)
	if res.Errors > 0 {
		return fmt.Errorf("%d errors", res.Errors)
	}
	return nil
}
