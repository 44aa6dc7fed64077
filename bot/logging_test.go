package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportbot/bot"
)

// TestUpdateLogs: every line logged while an update is handled — by the
// engine and by a flow, through Turn.Log — carries the chat and the
// update id (or, for an update without one, a request number), and the
// committed envelopes carry the update id for the channel's logs. A
// UserError with Warn is logged as a warning, with its flow and state.
func TestUpdateLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	down := func(_ context.Context, t *bot.Turn) (string, error) {
		t.Log().Info("calling the backend")
		return "", &bot.UserError{MsgID: "k.oops", Err: errors.New("backend down"), Warn: true}
	}
	flow := bot.Flow{Name: "w", Start: "ask", States: []bot.State{
		{Name: "ask", Prompt: "k.word", Input: bot.Text{Check: anyText, Var: "word"}, On: bot.On{bot.EventNext: "call"}},
		{Name: "call", Enter: down, On: bot.On{bot.EventNext: "end"}},
		endState(),
	}}
	db := openDB(t, filepath.Join(t.TempDir(), "log.db"))
	t.Cleanup(func() { db.Close() })
	e, err := bot.New(bot.Config{Store: db, Bundle: testBundle(t, kitMessages()...), Flows: []bot.Flow{flow},
		Now: func() time.Time { return kitNow }, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: 41, Data: "menu|w"}); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	envs, err := e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: 42, Text: "typed-word-secret", MessageID: 7})
	if err != nil || len(envs) == 0 {
		t.Fatalf("Handle = %v, %v; want replies", envs, err)
	}
	for _, env := range envs {
		if env.UpdateID != 42 {
			t.Errorf("envelope %d: UpdateID %d, want 42", env.ID, env.UpdateID)
		}
	}
	recs := logRecords(t, &buf)
	want := map[string]string{"calling the backend": "INFO", "step failed": "WARN", "update handled": "DEBUG"}
	for _, rec := range recs {
		msg, _ := rec["msg"].(string)
		if want[msg] == "" {
			t.Errorf("unexpected record %v", rec)
			continue
		}
		if rec["level"] != want[msg] || rec["chat"] != "t:1" || rec["update"] != float64(42) {
			t.Errorf("record %v: want level %s, chat t:1, update 42", rec, want[msg])
		}
		delete(want, msg)
	}
	if len(want) > 0 {
		t.Errorf("not logged: %v", want)
	}
	for _, rec := range recs {
		if rec["msg"] == "step failed" && (rec["flow"] != "w" || rec["state"] != "call" || rec["err"] != "backend down") {
			t.Errorf("step failed: %v, want flow w, state call, err backend down", rec)
		}
	}
	if strings.Contains(buf.String(), "typed-word-secret") {
		t.Errorf("what the customer typed is logged:\n%s", buf.String())
	}

	// Without an update id: a request number instead.
	buf.Reset()
	if _, err := e.Handle(ctx, bot.Inbound{Key: "t:2", Text: "/help"}); err != nil {
		t.Fatal(err)
	}
	recs = logRecords(t, &buf)
	if len(recs) == 0 {
		t.Fatal("nothing logged")
	}
	for _, rec := range recs {
		if _, ok := rec["update"]; ok || rec["req"] == nil || rec["chat"] != "t:2" {
			t.Errorf("record %v: want chat t:2 and req, no update", rec)
		}
	}
}

func logRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}
