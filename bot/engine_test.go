package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"supportbot/bot"
	"supportbot/locales"
	"supportbot/store"
)

// testFlow asks for a word and shows it back, with a step needing login.
func testFlow() bot.Flow {
	return bot.Flow{Name: "echo", Start: "ask", Title: "t.title", Command: "echo", Menu: bot.MenuAlways,
		States: []bot.State{
			{Name: "ask", Prompt: "t.ask", Input: bot.Text{Check: func(s string) (string, string) {
				if s == "" || len(s) > 20 {
					return "", "t.bad"
				}
				return s, ""
			}, Var: "word"}, On: bot.On{bot.EventNext: "show"}},
			{Name: "show", Prompt: "t.show", Input: bot.End{}},
		}}
}

func testBundle(t testing.TB, extra ...*i18n.Message) *i18n.Bundle {
	t.Helper()
	b, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	msgs := append([]*i18n.Message{
		{ID: "t.title", Other: "Echo"}, {ID: "t.ask", Other: "Say a word"},
		{ID: "t.bad", Other: "Bad word"}, {ID: "t.show", Other: "You said {{.word}}"},
		{ID: "cmd.echo", Other: "Echo"},
	}, extra...)
	for _, tag := range []language.Tag{language.English, language.Hebrew} {
		if err := b.AddMessages(tag, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func openDB(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{Key: bytes.Repeat([]byte{1}, 32), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newEngine(t testing.TB, db bot.Store, flows ...bot.Flow) *bot.Engine {
	t.Helper()
	if len(flows) == 0 {
		flows = []bot.Flow{testFlow()}
	}
	e, err := bot.New(bot.Config{Store: db, Bundle: testBundle(t), Flows: flows,
		OnMissing: func(err error) { t.Errorf("translation: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func texts(envs []bot.Envelope) string {
	var s []string
	for _, e := range envs {
		s = append(s, e.Reply.Text)
	}
	return strings.Join(s, " | ")
}

func TestNewRejectsBadFlows(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	mod := func(f func(*bot.Flow)) bot.Flow { fl := testFlow(); f(&fl); return fl }
	tests := []struct {
		name string
		flow bot.Flow
		want string
	}{
		{"dangling", mod(func(f *bot.Flow) { f.States[0].On = bot.On{bot.EventNext: "nowhere"} }), "missing state"},
		{"unreachable", mod(func(f *bot.Flow) {
			f.States = append(f.States, bot.State{Name: "island", Prompt: "t.ask", Input: bot.End{}})
		}), "unreachable"},
		{"missing message", mod(func(f *bot.Flow) { f.States[1].Prompt = "t.nope" }), "t.nope"},
		{"long callback", mod(func(f *bot.Flow) {
			f.States[1] = bot.State{Name: "show", Prompt: "t.show", Buttons: []bot.Btn{{Label: "t.ask", Event: strings.Repeat("x", 60)}},
				On: bot.On{strings.Repeat("x", 60): "show"}}
			f.Events = []string{strings.Repeat("x", 60)}
		}), "over 64"},
		{"duplicate state", mod(func(f *bot.Flow) { f.States = append(f.States, f.States[1]) }), "duplicate"},
		{"bad start", mod(func(f *bot.Flow) { f.Start = "nope" }), "start state"},
		{"needs login flow", mod(func(f *bot.Flow) { f.States[1].Auth = true }), "login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bot.New(bot.Config{Store: db, Bundle: testBundle(t), Flows: []bot.Flow{tt.flow}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDuplicateUpdateChangesNothing(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	e := newEngine(t, db)
	ctx := context.Background()
	if _, err := e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: 10, Text: "/echo"}); err != nil {
		t.Fatal(err)
	}
	first, err := e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: 11, Text: "hello"})
	if err != nil || len(first) == 0 {
		t.Fatalf("first delivery: %v, %d replies", err, len(first))
	}
	before, _, _ := db.Load(ctx, "t:1")
	pending, _ := db.Pending(ctx, "t", 0, 100)
	again, err := e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: 11, Text: "hello"})
	if err != nil || len(again) != 0 {
		t.Fatalf("redelivery: %v, %d replies; want none", err, len(again))
	}
	after, _, _ := db.Load(ctx, "t:1")
	pending2, _ := db.Pending(ctx, "t", 0, 100)
	if !before.Updated.Equal(after.Updated) || len(pending) != len(pending2) {
		t.Errorf("redelivered update changed state: updated %v→%v, outbox %d→%d", before.Updated, after.Updated, len(pending), len(pending2))
	}
}

func TestUndeliveredRepliesSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	db := openDB(t, path)
	e := newEngine(t, db)
	ctx := context.Background()
	envs, err := e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: 1, Text: "/echo"})
	if err != nil || len(envs) == 0 {
		t.Fatalf("handle: %v, %d", err, len(envs))
	}
	// Crash: nothing was delivered.
	db.Close()
	db = openDB(t, path)
	defer db.Close()
	e = newEngine(t, db)
	pending, err := e.Pending(ctx, "t", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := texts(pending), texts(envs); got != want {
		t.Fatalf("after restart pending = %q, want %q", got, want)
	}
	ids := []uint64{}
	for _, p := range pending {
		ids = append(ids, p.ID)
	}
	if err := e.Delivered(ctx, ids...); err != nil {
		t.Fatal(err)
	}
	if pending, _ := e.Pending(ctx, "t", 0, 100); len(pending) != 0 {
		t.Errorf("%d replies still pending after delivery", len(pending))
	}
}

// TestPerChatOrder runs many chats in parallel, each typing a sequence:
// every chat's session must reflect its own updates in order.
func TestPerChatOrder(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	e := newEngine(t, db)
	ctx := context.Background()
	var wg sync.WaitGroup
	for c := 0; c < 20; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("t:%d", c)
			for i := 0; i < 10; i++ {
				if _, err := e.Handle(ctx, bot.Inbound{Key: key, UpdateID: int64(c*100 + 2*i + 1), Text: "/echo"}); err != nil {
					t.Error(err)
				}
				envs, err := e.Handle(ctx, bot.Inbound{Key: key, UpdateID: int64(c*100 + 2*i + 2), Text: fmt.Sprintf("w%d-%d", c, i)})
				if err != nil {
					t.Error(err)
				}
				if want := fmt.Sprintf("You said w%d-%d", c, i); !strings.Contains(texts(envs), want) {
					t.Errorf("%s: got %q, want %q", key, texts(envs), want)
				}
			}
		}()
	}
	wg.Wait()
}

func TestIdleFlowExpires(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	e, err := bot.New(bot.Config{Store: db, Bundle: testBundle(t), Flows: []bot.Flow{testFlow()},
		IdleTimeout: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Handle(ctx, bot.Inbound{Key: "t:1", Text: "/echo"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	envs, err := e.Handle(ctx, bot.Inbound{Key: "t:1", Text: "late"})
	if err != nil {
		t.Fatal(err)
	}
	// The answer that woke the idle journey is kept, not acted on yet.
	if got := texts(envs); !strings.Contains(got, "idle") || strings.Contains(got, "You said") {
		t.Errorf("after idle timeout got %q, want the pause note and no echo", got)
	}
	if len(envs) != 1 || len(envs[0].Reply.Buttons) != 2 || envs[0].Reply.Buttons[0][0].Data != "cmd|resume" {
		t.Fatalf("pause note buttons = %+v, want Continue then Main menu", envs)
	}
	// Continue goes on with it: nothing to type again.
	envs, err = e.Handle(ctx, bot.Inbound{Key: "t:1", Data: "cmd|resume"})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(envs); !strings.Contains(got, "You said late") {
		t.Errorf("after Continue got %q, want the kept answer used", got)
	}
	// A command after the timeout means the customer moved on.
	if _, err := e.Handle(ctx, bot.Inbound{Key: "t:1", Text: "/echo"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	envs, err = e.Handle(ctx, bot.Inbound{Key: "t:1", Text: "/help"})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(envs); !strings.Contains(got, "timed out") {
		t.Errorf("a command after the timeout got %q, want the expiry note", got)
	}
	s, _, _ := db.Load(ctx, "t:1")
	if s.Top() != nil {
		t.Errorf("flow still active after expiry: %+v", s.Stack)
	}
}

// failingStore fails every commit: the engine must return the error.
type failingStore struct{ bot.Store }

func (failingStore) Commit(context.Context, bot.Commit) ([]bot.Envelope, error) {
	return nil, errors.New("disk full")
}

func TestCommitFailureIsReturned(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	e := newEngine(t, failingStore{db})
	if _, err := e.Handle(context.Background(), bot.Inbound{Key: "t:1", Text: "/echo"}); err == nil {
		t.Error("Handle returned nil error when the commit failed")
	}
}

func TestStaleButtonsCardsAndUnsupported(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	e := newEngine(t, db)
	ctx := context.Background()
	tests := []struct {
		name     string
		in       bot.Inbound
		want     string
		deleteID int
	}{
		{"button of a finished flow", bot.Inbound{Data: "echo.ask|e:gone", MessageID: 3}, "That menu has expired", 0},
		{"garbage callback data", bot.Inbound{Data: "💥|||", MessageID: 3}, "That menu has expired", 0},
		{"unknown language", bot.Inbound{Data: "lang|xx"}, "That menu has expired", 0},
		{"card number", bot.Inbound{Text: "4111 1111 1111 1111", MessageID: 9}, "looked like a payment card", 9},
		{"photo", bot.Inbound{Unsupported: true}, "only read text", 0},
		{"huge text", bot.Inbound{Text: strings.Repeat("א", 5000)}, "too long", 0},
		{"unknown command", bot.Inbound{Text: "/nope"}, "don't know that command", 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Key, tt.in.UpdateID = "t:9", int64(i+1)
			envs, err := e.Handle(ctx, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := texts(envs); !strings.Contains(got, tt.want) {
				t.Errorf("replies %q, want one containing %q", got, tt.want)
			}
			deleted := 0
			for _, env := range envs {
				if env.Reply.DeleteID != 0 {
					deleted = env.Reply.DeleteID
				}
				if strings.Contains(env.Reply.Text, "4111") {
					t.Errorf("a reply repeats the card number: %q", env.Reply.Text)
				}
			}
			if deleted != tt.deleteID {
				t.Errorf("deleted message %d, want %d", deleted, tt.deleteID)
			}
		})
	}
	// A button from an earlier step of the running flow: the flow goes on
	// where it was.
	if _, err := e.Handle(ctx, bot.Inbound{Key: "t:9", Text: "/echo"}); err != nil {
		t.Fatal(err)
	}
	envs, err := e.Handle(ctx, bot.Inbound{Key: "t:9", Data: "echo.show|e:x"})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(envs); !strings.Contains(got, "earlier message") || !strings.Contains(got, "Say a word") {
		t.Errorf("old-step button: %q, want the note and the current prompt", got)
	}
}

// TestKeepMarksWhatMustArrive: a journey's result and a note merged on top
// of a screen are marked Keep, so a channel never drops them for a newer
// screen; an ordinary step's screen is not.
func TestKeepMarksWhatMustArrive(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	e := newEngine(t, db)
	ctx := context.Background()
	steps := []struct {
		text string
		keep bool
	}{
		{"/echo", false},                // the question: a screen
		{strings.Repeat("x", 30), true}, // "Bad word" merged on top of the question
		{"hello", true},                 // the result, with the main menu under it
	}
	for _, st := range steps {
		envs, err := e.Handle(ctx, bot.Inbound{Key: "t:1", Text: st.text})
		if err != nil || len(envs) == 0 {
			t.Fatalf("%q: %v, %d replies", st.text, err, len(envs))
		}
		if last := envs[len(envs)-1].Reply; last.Keep != st.keep {
			t.Errorf("%q: last reply %q Keep = %v, want %v", st.text, last.Text, last.Keep, st.keep)
		}
	}
}

// TestFailedUpdateKeepsSession: when a step fails unexpectedly, the session
// is as it was before the update (the answer it took is not kept), the
// customer is told, and the next update continues from where they were.
func TestFailedUpdateKeepsSession(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	fail := true
	f := testFlow()
	f.States[1].Enter = func(ctx context.Context, t *bot.Turn) (string, error) {
		if fail {
			return "", errors.New("boom")
		}
		return "", nil
	}
	e := newEngine(t, db, f)
	ctx := context.Background()
	if _, err := e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: 1, Text: "/echo"}); err != nil {
		t.Fatal(err)
	}
	before, _, err := db.Load(ctx, "t:1")
	if err != nil {
		t.Fatal(err)
	}
	envs, err := e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: 2, Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := texts(envs), "Something went wrong on our side"; !strings.Contains(got, want) {
		t.Errorf("replies %q, want the internal error note %q", got, want)
	}
	after, _, err := db.Load(ctx, "t:1")
	if err != nil {
		t.Fatal(err)
	}
	if fb, fa := before.Top(), after.Top(); fb == nil || fa == nil || fa.State != fb.State || fa.Vars["word"] != fb.Vars["word"] || len(after.Stack) != len(before.Stack) {
		t.Errorf("session after the failed step = %+v, want it as before: %+v", after.Stack, before.Stack)
	}
	fail = false
	envs, err = e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: 3, Text: "again"})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(envs); !strings.Contains(got, "You said again") {
		t.Errorf("after the failure, replies %q, want the journey to go on from the question", got)
	}
}

// TestFailedUpdateOutOfTime: a step that fails because the update's
// context ran out still commits the error reply and the handled id (the
// session is read again without that context), so the customer is told
// and a redelivery is a duplicate.
func TestFailedUpdateOutOfTime(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := testFlow()
	f.States[1].Enter = func(c context.Context, t *bot.Turn) (string, error) {
		cancel() // the time is up mid-step
		return "", c.Err()
	}
	e := newEngine(t, db, f)
	if _, err := e.Handle(context.Background(), bot.Inbound{Key: "t:1", UpdateID: 1, Text: "/echo"}); err != nil {
		t.Fatal(err)
	}
	envs, err := e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: 2, Text: "hello"})
	if err != nil {
		t.Fatalf("Handle: %v, want the error reply committed", err)
	}
	if got := texts(envs); !strings.Contains(got, "Something went wrong on our side") {
		t.Errorf("replies %q, want the internal error note", got)
	}
	if seen, err := db.Handled(context.Background(), "t:1", 2); err != nil || !seen {
		t.Errorf("update 2 handled = %v, %v; want recorded", seen, err)
	}
}
