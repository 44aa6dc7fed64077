package console_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

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
	if p, err := db.Pending(ctx, 100); err != nil || len(p) != 0 {
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
	p, err := db.Pending(ctx, 100)
	if err != nil || len(p) != 1 || p[0].Key != "telegram:7" {
		t.Errorf("pending = %+v, %v; want only telegram:7's", p, err)
	}
}
