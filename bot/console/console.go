// Package console is a first-class terminal channel for supportbot: one
// conversation on stdin/stdout, buttons shown as numbered choices. It is
// used by the default run and by the transcript tests.
//
// It imports bot and golang.org/x/term only; never store, flows, portal or
// another adapter.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"supportbot/bot"
)

// Engine is what the console needs from bot.Engine.
type Engine interface {
	Handle(ctx context.Context, in bot.Inbound) ([]bot.Envelope, error)
	Pending(ctx context.Context, limit int) ([]bot.Envelope, error)
	Delivered(ctx context.Context, ids ...uint64) error
}

// Options configure a Channel.
type Options struct {
	// Key is the conversation key (default "console:local").
	Key string
	// Lang is the language hint sent with every line ("en", "he").
	Lang string
	// Name is the customer's display name.
	Name string
	// ShowData prints each button's callback token after its label, for
	// transcripts.
	ShowData bool
}

// Channel runs one conversation between a terminal and the engine.
type Channel struct {
	eng  Engine
	in   io.Reader
	out  io.Writer
	opt  Options
	seq  int // message ids: the customer's lines and the bot's messages
	last struct {
		id      int
		buttons []bot.Button
		secret  bool
	}
}

// New returns a Channel reading lines from in and writing to out.
func New(eng Engine, in io.Reader, out io.Writer, opt Options) *Channel {
	if opt.Key == "" {
		opt.Key = "console:local"
	}
	return &Channel{eng: eng, in: in, out: out, opt: opt}
}

// Run delivers replies left undelivered by an earlier run, greets, and then
// handles one line at a time until in ends or ctx is done.
func (c *Channel) Run(ctx context.Context) error {
	if err := c.flush(ctx); err != nil {
		return err
	}
	if err := c.Send(ctx, "/start"); err != nil {
		return err
	}
	interactive := false
	if f, ok := c.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		interactive = true
	}
	// One read per request, so a password prompt is printed before its
	// answer is read (without echo); the reader stays interruptible.
	type result struct {
		line string
		err  error
	}
	want := make(chan bool)
	got := make(chan result)
	go func() {
		sc := bufio.NewScanner(c.in)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for secret := range want {
			line, err := c.readLine(sc, secret)
			got <- result{line, err}
			if err != nil {
				return
			}
		}
	}()
	defer close(want)
	for {
		if interactive {
			fmt.Fprint(c.out, "> ")
		}
		want <- c.last.secret
		select {
		case <-ctx.Done():
			return nil
		case r := <-got:
			if errors.Is(r.err, io.EOF) {
				return nil
			}
			if r.err != nil {
				return r.err
			}
			if err := c.Send(ctx, r.line); err != nil {
				return err
			}
		}
	}
}

// readLine reads the next line; after a password prompt on a terminal it
// reads without echo.
func (c *Channel) readLine(sc *bufio.Scanner, secret bool) (string, error) {
	if f, ok := c.in.(*os.File); ok && secret && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.out)
		return string(b), err
	}
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return sc.Text(), nil
}

// Send turns one typed line into an update (a number picks a button of the
// last message), hands it to the engine and prints the replies.
func (c *Channel) Send(ctx context.Context, line string) error {
	c.seq++
	in := bot.Inbound{Key: c.opt.Key, Text: line, MessageID: c.seq, LangHint: c.opt.Lang, Name: c.opt.Name}
	if n, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && n >= 1 && n <= len(c.last.buttons) {
		in.Text, in.Data, in.MessageID = "", c.last.buttons[n-1].Data, c.last.id
	}
	envs, err := c.eng.Handle(ctx, in)
	if err != nil {
		return err
	}
	return c.deliver(ctx, envs)
}

// Press presses the button of the last message whose callback data is
// data, as a customer would; it fails if the last message has no such
// button. Transcripts use it where button numbers differ between
// languages (a calendar runs right to left in Hebrew).
func (c *Channel) Press(ctx context.Context, data string) error {
	for i, b := range c.last.buttons {
		if b.Data == data {
			return c.Send(ctx, strconv.Itoa(i+1))
		}
	}
	return fmt.Errorf("console: no button %q on the last message", data)
}

// flush delivers this conversation's undelivered replies.
func (c *Channel) flush(ctx context.Context) error {
	envs, err := c.eng.Pending(ctx, 1000)
	if err != nil {
		return err
	}
	mine := envs[:0]
	for _, e := range envs {
		if e.Key == c.opt.Key {
			mine = append(mine, e)
		}
	}
	return c.deliver(ctx, mine)
}

func (c *Channel) deliver(ctx context.Context, envs []bot.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	ids := make([]uint64, 0, len(envs))
	for _, e := range envs {
		c.print(e.Reply)
		ids = append(ids, e.ID)
	}
	return c.eng.Delivered(ctx, ids...)
}

func (c *Channel) print(r bot.Reply) {
	if r.DeleteID != 0 {
		fmt.Fprintln(c.out, "  (message deleted)")
		return
	}
	c.seq++
	c.last.id, c.last.buttons, c.last.secret = c.seq, nil, r.Secret
	if r.EditID != 0 {
		fmt.Fprintln(c.out, "  (updates the message above)")
	}
	for _, l := range strings.Split(r.Text, "\n") {
		fmt.Fprintln(c.out, "  "+l)
	}
	n := 0
	for _, row := range r.Buttons {
		var cells []string
		for _, b := range row {
			n++
			c.last.buttons = append(c.last.buttons, b)
			cell := fmt.Sprintf("[%d] %s", n, b.Label)
			if c.opt.ShowData {
				cell += " (" + b.Data + ")"
			}
			cells = append(cells, cell)
		}
		fmt.Fprintln(c.out, "    "+strings.Join(cells, "   "))
	}
}
