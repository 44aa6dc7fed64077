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
	"unicode/utf8"

	"golang.org/x/term"

	"supportbot/bot"
)

// Engine is what the console needs from bot.Engine.
type Engine interface {
	Handle(ctx context.Context, in bot.Inbound) ([]bot.Envelope, error)
	Pending(ctx context.Context, channel string, after uint64, limit int) ([]bot.Envelope, error)
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
	// ShowOthers prints what an update sent to other conversations or
	// channels (a ticket's staff thread) as "  → key event: text" lines,
	// for transcripts; their adapters still deliver them.
	ShowOthers bool
	// Notes are the console's own remarks, by language (a reply's
	// Envelope.Lang, else Lang). A language or a note missing here prints
	// the English default.
	Notes map[string]Notes
}

// Notes are the remarks the console prints in place of what a chat app
// shows by itself, in one language.
type Notes struct {
	// Deleted stands for a message the bot deleted (a password).
	Deleted string
	// Edited comes before a reply that replaces the message above.
	Edited string
}

// defaultNotes are printed where Options.Notes has none.
var defaultNotes = Notes{Deleted: "(message deleted)", Edited: "(updates the message above)"}

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
		// Leave the terminal as found, even if ctx ends a hidden read.
		if st, err := term.GetState(int(f.Fd())); err == nil {
			defer term.Restore(int(f.Fd()), st)
		}
	}
	// One read per request, so a password prompt is printed before its
	// answer is read (without echo); the reader stays interruptible. The
	// reader prints the "> " prompt once the terminal is ready for it.
	type result struct {
		line string
		err  error
	}
	want := make(chan bool)
	got := make(chan result, 1) // never blocks the reader after Run returns
	go func() {
		r := bufio.NewReader(c.in)
		for secret := range want {
			line, err := c.readLine(r, secret, interactive)
			got <- result{line, err}
			if err != nil {
				return
			}
		}
	}()
	defer close(want)
	for {
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

// readLine prints the prompt "> " if asked to and reads the next line, of
// any length, without its line ending; it returns io.EOF when in ends
// (Ctrl-D on a terminal). After a password prompt on a terminal it reads
// without echo, unless a line typed ahead is already buffered.
func (c *Channel) readLine(r *bufio.Reader, secret, prompt bool) (string, error) {
	ready := func() {
		if prompt {
			fmt.Fprint(c.out, "> ")
		}
	}
	if f, ok := c.in.(*os.File); ok && secret && r.Buffered() == 0 && term.IsTerminal(int(f.Fd())) {
		line, err := readHidden(f, ready)
		fmt.Fprintln(c.out)
		return line, err
	}
	ready()
	line, err := r.ReadString('\n')
	if errors.Is(err, io.EOF) && line != "" {
		err = nil // the last line has no line ending; EOF comes next time
	}
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// readHidden reads one line from the terminal f without echo, calling
// ready once the terminal no longer echoes. Ctrl-D on an empty line and
// Ctrl-C end the input (io.EOF), as they end the chat elsewhere;
// term.ReadPassword cannot serve here, as on Unix it reads on past Ctrl-D.
// It reads a byte at a time, so nothing typed after the line is lost.
func readHidden(f *os.File, ready func()) (string, error) {
	fd := int(f.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return "", err
	}
	defer term.Restore(fd, old)
	ready()
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := f.Read(b)
		if n == 0 {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				return string(line), nil
			}
			if err == nil {
				err = io.EOF
			}
			return "", err
		}
		switch b[0] {
		case '\r', '\n':
			return string(line), nil
		case ctrlC:
			return "", io.EOF
		case ctrlD:
			if len(line) == 0 {
				return "", io.EOF
			}
		case ctrlU:
			line = line[:0]
		case del, '\b':
			_, size := utf8.DecodeLastRune(line)
			line = line[:len(line)-size]
		default:
			line = append(line, b[0])
		}
	}
}

// Keys readHidden handles, as a terminal in raw mode sends them.
const (
	ctrlC = 0x03
	ctrlD = 0x04
	ctrlU = 0x15 // erase the line
	del   = 0x7f // backspace
)

// Send turns one typed line into an update, hands it to the engine and
// prints the replies. A number picks a button of the last message, except
// after a password prompt: there every line is the password.
func (c *Channel) Send(ctx context.Context, line string) error {
	if !c.last.secret {
		if n, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && n >= 1 && n <= len(c.last.buttons) {
			return c.press(ctx, c.last.buttons[n-1].Data)
		}
	}
	c.seq++
	return c.handle(ctx, bot.Inbound{Key: c.opt.Key, Text: line, MessageID: c.seq, LangHint: c.opt.Lang, Name: c.opt.Name})
}

// press presses the button with callback data data on the last message.
func (c *Channel) press(ctx context.Context, data string) error {
	c.seq++
	return c.handle(ctx, bot.Inbound{Key: c.opt.Key, Data: data, MessageID: c.last.id, LangHint: c.opt.Lang, Name: c.opt.Name})
}

// handle hands in to the engine and prints the replies.
func (c *Channel) handle(ctx context.Context, in bot.Inbound) error {
	// Replies committed meanwhile by others (a staff reply) come first.
	if err := c.flush(ctx); err != nil {
		return err
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
	for _, b := range c.last.buttons {
		if b.Data == data {
			return c.press(ctx, data)
		}
	}
	return fmt.Errorf("console: no button %q on the last message", data)
}

// flush delivers this conversation's undelivered replies.
func (c *Channel) flush(ctx context.Context) error {
	envs, err := c.eng.Pending(ctx, channelOf(c.opt.Key), 0, 1000)
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

// Deliver prints replies committed outside this channel's own updates (a
// staff reply) and marks them delivered; those of other conversations are
// skipped.
func (c *Channel) Deliver(ctx context.Context, envs ...bot.Envelope) error {
	return c.deliver(ctx, envs)
}

func (c *Channel) deliver(ctx context.Context, envs []bot.Envelope) error {
	ids := make([]uint64, 0, len(envs))
	for _, e := range envs {
		if e.Key != c.opt.Key { // another conversation's: its adapter delivers it
			if c.opt.ShowOthers {
				c.printOther(e)
			}
			continue
		}
		c.print(e)
		ids = append(ids, e.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	return c.eng.Delivered(ctx, ids...)
}

// printOther shows a reply sent to another conversation or channel.
func (c *Channel) printOther(e bot.Envelope) {
	line := "  → " + e.Key + " " + e.Reply.Vars["event"]
	if e.Reply.Text != "" {
		line += ": " + strings.ReplaceAll(e.Reply.Text, "\n", " / ")
	}
	fmt.Fprintln(c.out, line)
}

// notes returns the remarks in lang, each defaulting to English.
func (c *Channel) notes(lang string) Notes {
	if lang == "" {
		lang = c.opt.Lang
	}
	n := c.opt.Notes[lang]
	if n.Deleted == "" {
		n.Deleted = defaultNotes.Deleted
	}
	if n.Edited == "" {
		n.Edited = defaultNotes.Edited
	}
	return n
}

func (c *Channel) print(e bot.Envelope) {
	r := e.Reply
	if r.DeleteID != 0 {
		fmt.Fprintln(c.out, "  "+c.notes(e.Lang).Deleted)
		return
	}
	c.seq++
	c.last.id, c.last.buttons, c.last.secret = c.seq, nil, r.Secret
	if r.EditID != 0 {
		fmt.Fprintln(c.out, "  "+c.notes(e.Lang).Edited)
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

// channelOf returns the channel part of a conversation key.
func channelOf(key string) string {
	ch, _, _ := strings.Cut(key, ":")
	return ch
}
