package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"supportbot/bot"
)

// relayFlows are a live chat (a Relay passing text to "staff:<ticket>",
// Signals for replies and the close) and a note flow the engine starts for
// a reply that comes while the customer is elsewhere.
func relayFlows(passed *[]string) []bot.Flow {
	live := bot.Flow{Name: "live", Start: "chat", Title: "k.then", Command: "live", Events: []string{"closed", "leave"},
		States: []bot.State{
			{Name: "chat", Prompt: "r.connected", Buttons: []bot.Btn{{Label: "r.leave", Event: "leave"}},
				Input: bot.Relay{Pass: func(ctx context.Context, t *bot.Turn, text string) error {
					*passed = append(*passed, text)
					t.Send("staff:T-1", text, map[string]string{"event": "message"})
					return nil
				}},
				On: bot.On{"closed": "rate", "leave": "end"}},
			{Name: "rate", Prompt: "r.rate", Input: bot.Text{Check: anyText, Var: "rating"}, On: bot.On{bot.EventNext: "end"}},
			endState(),
		},
		Signals: map[string]bot.Signal{
			"reply": func(_ context.Context, t *bot.Turn, v map[string]string) (string, error) {
				t.Tell("r.reply", map[string]any{"Author": v["author"], "Text": v["text"]})
				return "", nil
			},
			"closed": func(_ context.Context, t *bot.Turn, v map[string]string) (string, error) {
				t.Tell("r.closed", nil)
				return "closed", nil
			},
		},
		Leave: func(t *bot.Turn) { t.Send("staff:T-1", "", map[string]string{"event": "left"}) },
	}
	note := bot.Flow{Name: "note", Start: "show", Title: "k.then",
		States: []bot.State{{Name: "show", Prompt: "r.note", Input: bot.End{}}}}
	word := bot.Flow{Name: "word", Start: "ask", Title: "k.then", Command: "word",
		States: []bot.State{{Name: "ask", Prompt: "k.word", Input: bot.Text{Check: anyText, Var: "word"}, On: bot.On{bot.EventNext: "end"}}, endState()}}
	return []bot.Flow{live, note, word}
}

func newRelayChat(t *testing.T, passed *[]string) (*kitChat, *time.Time) {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "relay.db"))
	t.Cleanup(func() { _ = db.Close() })
	now := kitNow
	msgs := append(kitMessages(),
		&i18n.Message{ID: "r.connected", Other: "You are connected"},
		&i18n.Message{ID: "r.leave", Other: "Leave"},
		&i18n.Message{ID: "r.reply", Other: "{{.Author}}: {{.Text}}"},
		&i18n.Message{ID: "r.closed", Other: "Closed"},
		&i18n.Message{ID: "r.note", Other: "{{.author}}: {{.text}}"},
		&i18n.Message{ID: "r.rate", Other: "Rate us"},
		&i18n.Message{ID: "cmd.live", Other: "Live"},
		&i18n.Message{ID: "cmd.word", Other: "Word"})
	e, err := bot.New(bot.Config{Store: db, Bundle: testBundle(t, msgs...), Flows: relayFlows(passed),
		Now:       func() time.Time { return now },
		Signals:   map[string]string{"reply": "note"},
		OnMissing: func(err error) { t.Errorf("translation: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	return &kitChat{e: e, db: db, key: "t:1"}, &now
}

// TestRelay: in a live chat every message goes to the other side (and
// nothing is answered); a phrase or a long pause changes nothing; a reply
// is shown and kept; the close moves the flow on; /menu tells the other
// side the customer left.
func TestRelay(t *testing.T) {
	var passed []string
	c, now := newRelayChat(t, &passed)
	ctx := context.Background()
	c.send(t, bot.Inbound{Text: "/live"})
	*now = now.Add(3 * time.Hour) // longer than the idle timeout
	if got := own(c.typeText(t, "where is my order")); len(got) != 0 {
		t.Errorf("relayed message answered: %+v", got)
	}
	if len(passed) != 1 || c.top(t).State != "chat" {
		t.Fatalf("passed %q, state %s", passed, c.top(t).State)
	}
	pend, err := c.e.Pending(ctx, "staff", 0, 0)
	if err != nil || len(pend) != 1 || pend[0].Key != "staff:T-1" || pend[0].Reply.Vars["event"] != "message" || !strings.Contains(pend[0].Reply.Text, "where is my order") {
		t.Fatalf("staff outbox = %+v, %v", pend, err)
	}
	if own, _ := c.e.Pending(ctx, "t", pend[0].ID-1, 0); len(own) != 0 {
		t.Errorf("the relayed message also went to the customer: %+v", own)
	}

	envs, err := c.e.Handle(ctx, bot.Inbound{Key: c.key, UpdateID: -5, Event: "reply", Vars: map[string]string{"author": "Dana", "text": "Hi"}})
	if err != nil {
		t.Fatal(err)
	}
	got := []bot.Reply{envs[0].Reply}
	if len(envs) != 1 || !strings.Contains(got[0].Text, "Dana") || !got[0].Keep {
		t.Errorf("reply = %+v; want one kept note", got)
	}
	if again, err := c.e.Handle(ctx, bot.Inbound{Key: c.key, UpdateID: -5, Event: "reply"}); err != nil || len(again) != 0 {
		t.Errorf("redelivered event answered again: %+v", again)
	}
	got = c.send(t, bot.Inbound{Event: "closed"})
	if c.top(t).State != "rate" || !strings.Contains(joined(got), "Closed") || !strings.Contains(joined(got), "Rate us") {
		t.Errorf("after close: state %s, replies %q", c.top(t).State, joined(got))
	}

	// A second live chat, left with /menu: the other side hears of it.
	c.send(t, bot.Inbound{Text: "/live"})
	c.send(t, bot.Inbound{Text: "/menu"})
	pend, _ = c.e.Pending(ctx, "staff", 0, 0)
	if n := len(pend); n != 2 || pend[1].Reply.Vars["event"] != "left" {
		t.Errorf("staff outbox after /menu = %+v; want a left notice", pend)
	}
}

// TestSignalElsewhere: news for a customer who is in another journey
// starts the signal's flow on top; the journey goes on after it.
func TestSignalElsewhere(t *testing.T) {
	var passed []string
	c, _ := newRelayChat(t, &passed)
	c.send(t, bot.Inbound{Text: "/word"})
	got := c.send(t, bot.Inbound{Event: "reply", Vars: map[string]string{"author": "Dana", "text": "Done"}})
	if !strings.Contains(joined(got), "Dana: Done") || !strings.Contains(joined(got), "Type a word") {
		t.Errorf("replies = %q; want the note, then the word prompt again", joined(got))
	}
	if top := c.top(t); top.Flow != "word" || top.State != "ask" {
		t.Errorf("top = %s.%s; want word.ask", top.Flow, top.State)
	}
	if got := c.send(t, bot.Inbound{Event: "nobody"}); len(got) != 0 {
		t.Errorf("unhandled event answered: %+v", got)
	}
}

// own drops the replies addressed to another channel.
func own(replies []bot.Reply) []bot.Reply {
	var out []bot.Reply
	for _, r := range replies {
		if r.To == "" {
			out = append(out, r)
		}
	}
	return out
}
