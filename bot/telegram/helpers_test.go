package telegram_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"supportbot/bot"
	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
)

// wait is how long a test waits for something that should happen at once.
const wait = 10 * time.Second

var _ telegram.Engine = (*fakeEngine)(nil)

// fakeEngine is a minimal Engine: it records inbounds, de-duplicates update
// ids like the real one, and commits the replies of its reply func (by
// default an echo) to an in-memory outbox.
type fakeEngine struct {
	mu      sync.Mutex
	changed chan struct{}
	// reply makes the replies for an inbound; an error commits nothing.
	// It may panic.
	reply       func(in bot.Inbound) ([]bot.Reply, error)
	commands    map[string][]bot.Command
	seen        map[int64]bool
	inbounds    []bot.Inbound
	nextID      uint64
	outbox      map[uint64]bot.Envelope
	delivered   []uint64
	deactivated []string
	notified    []string
	// onPending, if set, runs at the start of every Pending call.
	onPending    func(after uint64)
	pendingCalls int
}

func newEngine() *fakeEngine {
	return &fakeEngine{
		changed: make(chan struct{}),
		seen:    map[int64]bool{},
		outbox:  map[uint64]bot.Envelope{},
		reply:   echo,
	}
}

func echo(in bot.Inbound) ([]bot.Reply, error) {
	switch {
	case in.Unsupported:
		return []bot.Reply{{Text: "unsupported"}}, nil
	case in.Data != "":
		return []bot.Reply{{Text: "pressed " + in.Data}}, nil
	}
	return []bot.Reply{{Text: "re: " + in.Text}}, nil
}

func (e *fakeEngine) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *fakeEngine) Handle(ctx context.Context, in bot.Inbound) ([]bot.Envelope, error) {
	e.mu.Lock()
	e.inbounds = append(e.inbounds, in)
	e.notifyLocked()
	dup := in.UpdateID != 0 && e.seen[in.UpdateID]
	reply := e.reply
	e.mu.Unlock()
	if dup {
		return nil, nil
	}
	replies, err := reply(in)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen[in.UpdateID] = true
	return e.commitLocked(in.Key, replies...), nil
}

func (e *fakeEngine) commitLocked(key string, replies ...bot.Reply) []bot.Envelope {
	var envs []bot.Envelope
	for _, r := range replies {
		e.nextID++
		env := bot.Envelope{ID: e.nextID, Key: key, Lang: "en", Reply: r}
		e.outbox[env.ID] = env
		envs = append(envs, env)
	}
	e.notifyLocked()
	return envs
}

// commit adds replies to the outbox as if committed before a restart.
func (e *fakeEngine) commit(key string, replies ...bot.Reply) []bot.Envelope {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.commitLocked(key, replies...)
}

func (e *fakeEngine) Notify(ctx context.Context, key, msgID string, data map[string]any) ([]bot.Envelope, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notified = append(e.notified, key+" "+msgID)
	return e.commitLocked(key, bot.Reply{Text: "notice " + msgID}), nil
}

func (e *fakeEngine) Pending(ctx context.Context, _ string, after uint64, limit int) ([]bot.Envelope, error) {
	e.mu.Lock()
	hook := e.onPending
	e.mu.Unlock()
	if hook != nil {
		hook(after)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pendingCalls++
	var out []bot.Envelope
	for _, env := range e.outbox {
		if env.ID > after {
			out = append(out, env)
		}
	}
	slices.SortFunc(out, func(a, b bot.Envelope) int { return cmp.Compare(a.ID, b.ID) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (e *fakeEngine) Delivered(ctx context.Context, ids ...uint64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range ids {
		delete(e.outbox, id)
	}
	e.delivered = append(e.delivered, ids...)
	e.notifyLocked()
	return nil
}

func (e *fakeEngine) Deactivate(ctx context.Context, key string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deactivated = append(e.deactivated, key)
	e.notifyLocked()
	return nil
}

func (e *fakeEngine) Commands(lang string) []bot.Command { return e.commands[lang] }

// snapshot returns copies of what the engine recorded.
func (e *fakeEngine) snapshot() (inbounds []bot.Inbound, delivered []uint64, undelivered int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.inbounds), slices.Clone(e.delivered), len(e.outbox)
}

func (e *fakeEngine) inboundsFor(key string) []bot.Inbound {
	in, _, _ := e.snapshot()
	return slices.DeleteFunc(in, func(i bot.Inbound) bool { return i.Key != key })
}

// waitFor waits until cond holds, re-checking after every engine change.
func (e *fakeEngine) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		ch := e.changed
		e.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// logBuffer collects JSON log lines, safe for concurrent use.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

// waitFor waits until a record with message msg is logged.
func (b *logBuffer) waitFor(t *testing.T, msg string) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		ch := b.changed
		b.mu.Unlock()
		for _, rec := range b.records(t) {
			if rec["msg"] == msg {
				return
			}
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for log %q", msg)
		}
	}
}

// records returns the decoded log records.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
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

// harness is a Channel running against a fake Bot API and a fake engine.
type harness struct {
	t    *testing.T
	srv  *telegramtest.Server
	eng  *fakeEngine
	ch   *telegram.Channel
	logs *logBuffer
	// secrets must never appear in logs above debug level.
	secrets []string
	// cancel cancels Run's context; done receives what Run returned; stop
	// cancels and waits for Run.
	cancel context.CancelFunc
	done   chan error
	stop   func() error
}

// options are fast limits for tests.
func options(srv *telegramtest.Server, logs *logBuffer) telegram.Options {
	return telegram.Options{
		APIURL:          srv.URL,
		Logger:          slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PerChatInterval: time.Microsecond,
		PerChatBurst:    1000,
		GlobalPerSecond: 1_000_000,
		PollTimeout:     5 * time.Second,
		RetryBackoff:    time.Millisecond,
		FlushTimeout:    5 * time.Second,
	}
}

// newHarness builds a Channel; change opt before it is built with edit.
func newHarness(t *testing.T, edit func(*telegram.Options)) *harness {
	t.Helper()
	h := &harness{t: t, srv: telegramtest.NewServer(t), eng: newEngine(), logs: &logBuffer{}}
	opt := options(h.srv, h.logs)
	if edit != nil {
		edit(&opt)
	}
	ch, err := telegram.New(telegramtest.Token, h.eng, opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.ch = ch
	t.Cleanup(h.checkLogs)
	return h
}

// start runs the Channel until the returned stop (also run at cleanup).
func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.ch.Run(ctx) }()
	h.cancel, h.done = cancel, done
	var once sync.Once
	var err error
	h.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(wait):
				err = errors.New("Run did not return after cancel")
			}
		})
		return err
	}
	h.t.Cleanup(func() {
		if err := h.stop(); err != nil {
			h.t.Errorf("Run: %v", err)
		}
	})
}

// checkLogs fails the test if a log line holds the token, or a line above
// debug level holds a message text.
func (h *harness) checkLogs() {
	for _, rec := range h.logs.records(h.t) {
		line, _ := json.Marshal(rec)
		if strings.Contains(string(line), telegramtest.Token) {
			h.t.Errorf("token logged: %s", line)
		}
		if rec["level"] == "DEBUG" {
			continue
		}
		for _, s := range h.secrets {
			if strings.Contains(string(line), s) {
				h.t.Errorf("message text %q logged above debug: %s", s, line)
			}
		}
	}
}

// sent returns the texts of the bot's messages now in chat.
func (h *harness) sent(chat int64) []string {
	var out []string
	for _, m := range h.srv.Messages(chat) {
		if m.FromBot {
			out = append(out, m.Text)
		}
	}
	return out
}

// waitSent waits until chat shows n bot messages and returns their texts.
func (h *harness) waitSent(chat int64, n int) []string {
	h.t.Helper()
	var got []string
	for _, m := range h.srv.WaitBotMessages(chat, n, wait) {
		got = append(got, m.Text)
	}
	if len(got) < n {
		h.t.Fatalf("chat %d: got %d bot messages %q, want %d", chat, len(got), got, n)
	}
	return got
}

// waitCalls waits for n calls of method and returns them.
func (h *harness) waitCalls(method string, n int) []telegramtest.Call {
	h.t.Helper()
	calls := h.srv.WaitCalls(method, n, wait)
	if len(calls) < n {
		h.t.Fatalf("got %d %s calls, want %d", len(calls), method, n)
	}
	return calls
}

func user(id int64) telegramtest.User {
	return telegramtest.User{ID: id, FirstName: "Dana", LanguageCode: "en"}
}
