package bot_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"supportbot/bot"
)

// recorder is an Observer that writes down what it is told.
type recorder struct {
	mu      sync.Mutex
	events  []string
	handled int
}

var _ bot.Observer = (*recorder)(nil)

func (r *recorder) add(s ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, strings.Join(s, " "))
}

func (r *recorder) Update(channel, kind string) { r.add("update", channel, kind) }
func (r *recorder) Duplicate(channel string)    { r.add("duplicate", channel) }
func (r *recorder) FlowStarted(flow string)     { r.add("start", flow) }
func (r *recorder) FlowEnded(flow, how string)  { r.add("end", flow, how) }
func (r *recorder) Handled(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handled++
}

// boomFlow starts with an action that fails: the update is answered with
// the generic error and the session stays as it was.
func boomFlow() bot.Flow {
	return bot.Flow{Name: "boom", Start: "act", Title: "t.title", Command: "boom",
		States: []bot.State{
			{Name: "act", Enter: func(context.Context, *bot.Turn) (string, error) { return "", errors.New("backend broke") },
				On: bot.On{bot.EventNext: "done"}},
			{Name: "done", Prompt: "t.show", Input: bot.End{}},
		}}
}

func TestObserver(t *testing.T) {
	type step struct {
		in    bot.Inbound
		after time.Duration // the clock moves this much before the update
	}
	text := func(s string) step { return step{in: bot.Inbound{Text: s}} }
	tests := []struct {
		name       string
		steps      []step
		deactivate bool // the customer blocks the bot at the end
		want       []string
	}{
		{"completed", []step{text("/echo"), text("hello")}, false, []string{
			"update t command", "start echo",
			"update t text", "end echo completed",
		}},
		{"cancelled", []step{text("/echo"), text("/cancel")}, false, []string{
			"update t command", "start echo",
			"update t command", "end echo cancel",
		}},
		{"back from the first step", []step{text("/echo"), text("/back")}, false, []string{
			"update t command", "start echo",
			"update t command", "end echo cancel",
		}},
		{"menu", []step{text("/echo"), text("/menu")}, false, []string{
			"update t command", "start echo",
			"update t command", "end echo menu",
		}},
		{"menu button to another flow", []step{text("/echo"), {in: bot.Inbound{Data: "menu|echo"}}}, false, []string{
			"update t command", "start echo",
			"update t button", "end echo other_flow", "start echo",
		}},
		{"timed out", []step{text("/echo"), {in: bot.Inbound{Text: "/menu"}, after: time.Hour}}, false, []string{
			"update t command", "start echo",
			"update t command", "end echo timeout",
		}},
		{"too many attempts", []step{text("/echo"),
			text(strings.Repeat("x", 30)), text(strings.Repeat("x", 30)), text(strings.Repeat("x", 30)),
			text(strings.Repeat("x", 30)), text(strings.Repeat("x", 30))}, false, []string{
			"update t command", "start echo",
			"update t text", "update t text", "update t text", "update t text",
			"update t text", "end echo attempts",
		}},
		{"blocked", []step{text("/echo")}, true, []string{
			"update t command", "start echo",
			"end echo blocked",
		}},
		{"unsupported", []step{{in: bot.Inbound{Unsupported: true}}}, false, []string{
			"update t unsupported",
		}},
		{"failed update moves no flow", []step{text("/boom")}, false, []string{
			"update t command",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
			defer db.Close()
			rec := &recorder{}
			now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
			e, err := bot.New(bot.Config{Store: db, Bundle: testBundle(t, &i18n.Message{ID: "cmd.boom", Other: "Boom"}),
				Flows:    []bot.Flow{testFlow(), boomFlow()},
				Observer: rec, Now: func() time.Time { return now },
				OnMissing: func(err error) { t.Errorf("translation: %v", err) }})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i, st := range tt.steps {
				now = now.Add(st.after)
				in := st.in
				in.Key, in.UpdateID = "t:1", int64(i+1)
				if _, err := e.Handle(ctx, in); err != nil {
					t.Fatalf("Handle %+v: %v", in, err)
				}
			}
			if tt.deactivate {
				if err := e.Deactivate(ctx, "t:1"); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, rec.events); diff != "" {
				t.Errorf("observed (-want +got):\n%s", diff)
			}
			if rec.handled != len(tt.steps) {
				t.Errorf("Handled called %d times, want %d", rec.handled, len(tt.steps))
			}
		})
	}
}

// TestObserverDuplicate redelivers an update: it is counted as an update
// and a duplicate, and moves no flow a second time.
func TestObserverDuplicate(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "b.db"))
	defer db.Close()
	rec := &recorder{}
	e, err := bot.New(bot.Config{Store: db, Bundle: testBundle(t), Flows: []bot.Flow{testFlow()}, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	in := bot.Inbound{Key: "telegram:7", UpdateID: 3, Text: "/echo"}
	for range 2 {
		if _, err := e.Handle(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"update telegram command", "start echo", "update telegram command", "duplicate telegram"}
	if diff := cmp.Diff(want, rec.events); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
	if rec.handled != 1 {
		t.Errorf("Handled called %d times, want 1", rec.handled)
	}
}
