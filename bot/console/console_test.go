package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"supportbot/bot"
	"supportbot/bot/console"
	"supportbot/locales"
	"supportbot/store"
)

func newEngine(t *testing.T) (*bot.Engine, *store.DB) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "c.db"), store.Options{Key: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	msgs := []*i18n.Message{{ID: "t.title", Other: "Secret"}, {ID: "t.ask", Other: "Type the code"}, {ID: "t.done", Other: "Got it"}}
	for _, tag := range []language.Tag{language.English, language.Hebrew} {
		if err := b.AddMessages(tag, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	flow := bot.Flow{Name: "code", Start: "ask", Title: "t.title", Menu: bot.MenuAlways, States: []bot.State{
		{Name: "ask", Prompt: "t.ask", Input: bot.Secret{Check: func(s string) (string, string) { return s, "" }}, On: bot.On{bot.EventNext: "done"}},
		{Name: "done", Prompt: "t.done", Input: bot.End{}},
	}}
	e, err := bot.New(bot.Config{Store: db, Bundle: b, Flows: []bot.Flow{flow}, OnMissing: func(err error) { t.Error(err) }})
	if err != nil {
		t.Fatal(err)
	}
	return e, db
}

// TestNumbersPressButtons: a number picks a button of the last message; a
// secret answer's message is deleted; delivered replies leave the outbox.
func TestNumbersPressButtons(t *testing.T) {
	e, db := newEngine(t)
	var out bytes.Buffer
	c := console.New(e, nil, &out, console.Options{Key: "console:x"})
	ctx := context.Background()
	for _, line := range []string{"/menu", "1", "s3cret"} {
		if err := c.Send(ctx, line); err != nil {
			t.Fatal(err)
		}
	}
	got := out.String()
	for _, want := range []string{"[1] Secret", "Type the code", "(message deleted)", "Got it"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "s3cret") {
		t.Errorf("the secret was printed:\n%s", got)
	}
	if p, err := db.Pending(ctx, "console", 0, 100); err != nil || len(p) != 0 {
		t.Errorf("pending after delivery: %d, %v", len(p), err)
	}
}

// TestRunDeliversOwnPendingOnly: Run first sends this conversation's
// undelivered replies, leaving other conversations' to their channels.
func TestRunDeliversOwnPendingOnly(t *testing.T) {
	e, db := newEngine(t)
	ctx := context.Background()
	for _, key := range []string{"console:x", "telegram:7"} {
		if _, err := e.Notify(ctx, key, "t.done", nil); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := console.New(e, strings.NewReader(""), &out, console.Options{Key: "console:x"}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Got it") {
		t.Errorf("pending reply not printed:\n%s", out.String())
	}
	p, err := db.Pending(ctx, "telegram", 0, 100)
	if err != nil || len(p) != 1 || p[0].Key != "telegram:7" {
		t.Errorf("pending = %+v, %v; want only telegram:7's", p, err)
	}
}

// fakeEngine answers every update with the reply its reply func gives and
// records what it got.
type fakeEngine struct {
	got   []bot.Inbound
	lang  string
	reply func(bot.Inbound) bot.Reply
}

var _ console.Engine = (*fakeEngine)(nil)

func (f *fakeEngine) Handle(_ context.Context, in bot.Inbound) ([]bot.Envelope, error) {
	f.got = append(f.got, in)
	return []bot.Envelope{{ID: uint64(len(f.got)), Key: in.Key, Lang: f.lang, Reply: f.reply(in)}}, nil
}

func (f *fakeEngine) Pending(context.Context, string, uint64, int) ([]bot.Envelope, error) {
	return nil, nil
}
func (f *fakeEngine) Delivered(context.Context, ...uint64) error { return nil }

// texts sums up the typed texts the engine got: short ones whole, long
// ones by their length.
func (f *fakeEngine) texts() []string {
	var out []string
	for _, in := range f.got {
		if len(in.Text) > 40 {
			out = append(out, fmt.Sprintf("<%d bytes>", len(in.Text)))
			continue
		}
		out = append(out, in.Text)
	}
	return out
}

// TestRunReadsAnyLine: a line of any length reaches the engine and the
// chat goes on after it; line endings are dropped.
func TestRunReadsAnyLine(t *testing.T) {
	long := strings.Repeat("a", 2<<20)
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"2 MB line, then another", long + "\nhello\n", []string{"/start", "<2097152 bytes>", "hello"}},
		{"2 MB line without a newline", "hi\n" + long, []string{"/start", "hi", "<2097152 bytes>"}},
		{"CRLF, last line without a newline", "one\r\n\r\ntwo", []string{"/start", "one", "", "two"}},
		{"nothing", "", []string{"/start"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeEngine{reply: func(in bot.Inbound) bot.Reply { return bot.Reply{Text: fmt.Sprintf("got %d bytes", len(in.Text))} }}
			var out bytes.Buffer
			if err := console.New(f, strings.NewReader(tc.in), &out, console.Options{}).Run(context.Background()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(f.texts(), tc.want); diff != "" {
				t.Errorf("engine got (-got +want):\n%s", diff)
			}
			if got, want := strings.Count(out.String(), "got "), len(tc.want); got != want {
				t.Errorf("%d answers printed, want %d:\n%.300s", got, want, out.String())
			}
		})
	}
}

// TestSecretPromptTakesText: after a password prompt a typed number is the
// password, not a button; Press still presses the prompt's buttons.
func TestSecretPromptTakesText(t *testing.T) {
	for _, tc := range []struct {
		name     string
		secret   bool
		press    string // callback data to Press; else "1" is typed
		wantText string
		wantData string
	}{
		{"number after a password prompt", true, "", "1", ""},
		{"number after another prompt", false, "", "", "forgot"},
		{"Press after a password prompt", true, "forgot", "", "forgot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeEngine{reply: func(bot.Inbound) bot.Reply {
				return bot.Reply{Text: "Password?", Secret: tc.secret, Buttons: [][]bot.Button{{{Label: "Forgot", Data: "forgot"}}}}
			}}
			c := console.New(f, nil, io.Discard, console.Options{})
			ctx := context.Background()
			if err := c.Send(ctx, "/login"); err != nil {
				t.Fatal(err)
			}
			var err error
			if tc.press != "" {
				err = c.Press(ctx, tc.press)
			} else {
				err = c.Send(ctx, "1")
			}
			if err != nil {
				t.Fatal(err)
			}
			last := f.got[len(f.got)-1]
			if last.Text != tc.wantText || last.Data != tc.wantData {
				t.Errorf("engine got text %q, data %q; want text %q, data %q", last.Text, last.Data, tc.wantText, tc.wantData)
			}
		})
	}
}

// TestNotesInChatLanguage: the console's own remarks come in the language
// of the reply they stand for, English where Options has none.
func TestNotesInChatLanguage(t *testing.T) {
	he := console.Notes{Deleted: "(ההודעה נמחקה)", Edited: "(עדכון של ההודעה שלמעלה)"}
	for _, tc := range []struct {
		name, replyLang, optLang string
		want                     console.Notes
	}{
		{"Hebrew reply", "he", "en", he},
		{"English reply", "en", "he", console.Notes{Deleted: "(message deleted)", Edited: "(updates the message above)"}},
		{"reply without a language", "", "he", he},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeEngine{lang: tc.replyLang, reply: func(in bot.Inbound) bot.Reply {
				if in.Text == "del" {
					return bot.Reply{DeleteID: in.MessageID}
				}
				return bot.Reply{Text: "new text", EditID: 1}
			}}
			var out bytes.Buffer
			c := console.New(f, nil, &out, console.Options{Lang: tc.optLang, Notes: map[string]console.Notes{"he": he}})
			for _, line := range []string{"del", "edit"} {
				if err := c.Send(context.Background(), line); err != nil {
					t.Fatal(err)
				}
			}
			want := "  " + tc.want.Deleted + "\n  " + tc.want.Edited + "\n  new text\n"
			if diff := cmp.Diff(out.String(), want); diff != "" {
				t.Errorf("output (-got +want):\n%s", diff)
			}
		})
	}
}
