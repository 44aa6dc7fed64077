package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
	"supportbot/flows"
	"supportbot/locales"
)

// wait is how long a test waits for something that should happen at once.
const wait = 15 * time.Second

// logBuffer collects JSON log lines and wakes waiters; safe for concurrent
// use.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.changed)
	b.changed = make(chan struct{})
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the decoded log records.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
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

// waitFor waits until a record with message msg is logged and returns it.
func (b *logBuffer) waitFor(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		ch := b.changed
		b.mu.Unlock()
		for _, rec := range b.records(t) {
			if rec["msg"] == msg {
				return rec
			}
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for log %q; logs:\n%s", msg, b.String())
		}
	}
}

// fastOptions lifts the channel's limits so tests run at full speed; the
// real limits (1 message/s per chat, 30/s in all) apply in production.
func fastOptions(o *telegram.Options) {
	o.PerChatInterval = time.Microsecond
	o.PerChatBurst = 1000
	o.GlobalPerSecond = 1_000_000
	o.PollTimeout = 5 * time.Second
	o.RetryBackoff = time.Millisecond
}

// app is a Main running against a fake Bot API.
type app struct {
	t    *testing.T
	m    *Main
	srv  *telegramtest.Server
	logs *logBuffer
	// stop cancels Run, waits for it and closes Main; it runs at cleanup
	// too and returns what Run returned.
	stop func() error
}

// config returns the configuration of a Main on srv with its data in dir.
func config(srv *telegramtest.Server, dir string) Config {
	c := DefaultConfig()
	c.DataDir = dir
	c.LogLevel = "debug"
	c.TelegramToken = telegramtest.Token
	c.TelegramAPIURL = srv.URL
	c.ShutdownTimeout = 5 * time.Second
	return c
}

// openApp opens a Main with cfg, its limits adjusted by fastOptions and
// then edit, and runs it until stop.
func openApp(t *testing.T, srv *telegramtest.Server, cfg Config, edit func(*telegram.Options)) *app {
	t.Helper()
	return openAppAt(t, srv, cfg, edit, nil)
}

// openAppAt is openApp with Main's clock set to now (time.Now if nil).
func openAppAt(t *testing.T, srv *telegramtest.Server, cfg Config, edit func(*telegram.Options), now func() time.Time) *app {
	t.Helper()
	a := &app{t: t, srv: srv, logs: newLogBuffer()}
	m := NewMain()
	m.Config = cfg
	if now != nil {
		m.Now = now
	}
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), io.Discard, a.logs
	m.Logger = slog.New(slog.NewJSONHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m.TelegramOptions = func(o *telegram.Options) {
		fastOptions(o)
		if edit != nil {
			edit(o)
		}
	}
	a.m = m
	a.stop = runMain(t, m)
	return a
}

// botMessages returns the bot's messages now in chat.
func (a *app) botMessages(chat int64) []telegramtest.Message {
	return slices.DeleteFunc(a.srv.Messages(chat), func(m telegramtest.Message) bool { return !m.FromBot })
}

// lastID returns the highest message id now in chat (0 if none).
func (a *app) lastID(chat int64) int {
	id := 0
	for _, m := range a.srv.Messages(chat) {
		id = max(id, m.ID)
	}
	return id
}

// await waits for a bot message in chat newer than after for which ok
// holds, and returns it.
func (a *app) await(chat int64, after int, what string, ok func(telegramtest.Message) bool) telegramtest.Message {
	a.t.Helper()
	var got telegramtest.Message
	found := a.srv.WaitFor(wait, func() bool {
		for _, m := range a.botMessages(chat) {
			if m.ID > after && ok(m) {
				got = m
				return true
			}
		}
		return false
	})
	if !found {
		a.t.Fatalf("chat %d: timed out waiting for %s; bot messages:\n%s", chat, what, dump(a.botMessages(chat)))
	}
	return got
}

// hasButton matches a message with a button carrying data.
func hasButton(data string) func(telegramtest.Message) bool {
	return func(m telegramtest.Message) bool { return buttonID(m, data) }
}

func buttonID(m telegramtest.Message, data string) bool {
	if m.Markup == nil {
		return false
	}
	for _, row := range m.Markup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData == data {
				return true
			}
		}
	}
	return false
}

// containing matches a message whose text contains s.
func containing(s string) func(telegramtest.Message) bool {
	return func(m telegramtest.Message) bool { return strings.Contains(m.Text, s) }
}

func dump(ms []telegramtest.Message) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "  #%d %q", m.ID, m.Text)
		if m.Markup != nil {
			for _, row := range m.Markup.InlineKeyboard {
				for _, btn := range row {
					fmt.Fprintf(&b, " [%s → %s]", btn.Text, btn.CallbackData)
				}
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// bundle is the embedded locales, loaded once.
var bundle = sync.OnceValues(locales.Load)

// msg renders a message of the embedded locales, for comparisons.
func msg(t *testing.T, lang, id string, data map[string]any) string {
	t.Helper()
	b, err := bundle()
	if err != nil {
		t.Fatal(err)
	}
	s, err := i18n.NewLocalizer(b, lang).Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		t.Fatalf("localize %s %s: %v", lang, id, err)
	}
	return s
}

// startsRTL reports whether s starts with a Hebrew letter or an RLM, so a
// Telegram client lays it out right to left.
func startsRTL(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '\u200f' || unicode.Is(unicode.Hebrew, r)
}

func hasHebrew(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Hebrew, r) && unicode.IsLetter(r) }) >= 0
}

// checkMarkup checks that every keyboard the bot sent is an inline keyboard
// whose callback data fits Telegram's 64 bytes.
func checkMarkup(t *testing.T, calls []telegramtest.Call) {
	t.Helper()
	for _, c := range calls {
		raw, ok := c.Fields["reply_markup"]
		if !ok {
			continue
		}
		var kinds map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &kinds); err != nil {
			t.Errorf("%s: reply_markup %q: %v", c.Method, raw, err)
			continue
		}
		for k := range kinds {
			if k != "inline_keyboard" {
				t.Errorf("%s: reply_markup has %q, want only an inline keyboard", c.Method, k)
			}
		}
		if c.Markup == nil {
			continue
		}
		for _, row := range c.Markup.InlineKeyboard {
			for _, b := range row {
				if n := len(b.CallbackData); n == 0 || n > 64 {
					t.Errorf("%s: button %q has %d bytes of callback data, want 1-64", c.Method, b.Text, n)
				}
			}
		}
	}
}

// noWarnings fails the test for log records at warning level or above,
// except those whose message is in allowed.
func (a *app) noWarnings(allowed ...string) {
	a.t.Helper()
	for _, rec := range a.logs.records(a.t) {
		if lvl := rec["level"]; (lvl == "WARN" || lvl == "ERROR") && !slices.Contains(allowed, rec["msg"].(string)) {
			a.t.Errorf("unexpected log record: %v", rec)
		}
	}
}

// TestPollingHebrewLoginTrack runs a whole conversation over long polling:
// a Hebrew-speaking customer tracks an order, logging in on the way.
func TestPollingHebrewLoginTrack(t *testing.T) {
	const (
		chat     = 4242
		email    = "dana.levi@example.com"
		password = "demo-dana"
	)
	srv := telegramtest.NewServer(t)
	a := openApp(t, srv, config(srv, t.TempDir()), nil)
	u := telegramtest.User{ID: chat, FirstName: "Dana", LanguageCode: "he"}
	var queries []int64

	srv.PushText(u, "/start")
	menu := a.await(chat, 0, "the main menu", hasButton("menu|track"))

	queries = append(queries, srv.PushCallback(u, menu.ID, "menu|track"))
	choose := a.await(chat, menu.ID, "log in or guest", hasButton("track.start|e:login"))

	queries = append(queries, srv.PushCallback(u, choose.ID, "track.start|e:login"))
	askEmail := a.await(chat, choose.ID, "the email prompt", containing(msg(t, "he", "login.ask_email.prompt", nil)))

	srv.PushText(u, email)
	askPassword := a.await(chat, askEmail.ID, "the password prompt", containing(email))

	if calls := srv.Calls("deleteMessage"); len(calls) != 0 {
		t.Fatalf("deleteMessage called before the password was sent: %+v", calls)
	}
	// Nothing was deleted yet, so the next message id is the password's.
	passwordID := a.lastID(chat) + 1
	srv.PushText(u, password)
	orders := a.await(chat, askPassword.ID, "the order list", hasButton("track.list_orders|v:SB-104233"))

	queries = append(queries, srv.PushCallback(u, orders.ID, "track.list_orders|v:SB-104233"))
	shipment := a.await(chat, orders.ID, "the shipment", containing("RR314434889IL"))
	if !buttonID(shipment, "track.show_shipment|e:refresh") {
		t.Errorf("shipment message has no refresh button:\n%s", dump([]telegramtest.Message{shipment}))
	}

	// The password message was deleted, by its id.
	dels := srv.Calls("deleteMessage")
	if len(dels) != 1 || dels[0].ChatID != chat || dels[0].MessageID != passwordID || !dels[0].OK() {
		t.Errorf("deleteMessage calls = %+v, want one for message %d in chat %d", dels, passwordID, chat)
	}
	for _, m := range srv.Messages(chat) {
		if m.Text == password {
			t.Errorf("password message #%d still in the chat", m.ID)
		}
	}

	// Every button press was answered.
	if !srv.WaitFor(wait, func() bool {
		for _, id := range queries {
			if !srv.Answered("cb" + strconv.FormatInt(id, 10)) {
				return false
			}
		}
		return true
	}) {
		t.Errorf("not every callback query was answered: %v", queries)
	}

	// Every reply is Hebrew, laid out right to left, with inline keyboards.
	var texts []telegramtest.Call
	for _, c := range srv.Calls("") {
		if c.Method == "sendMessage" || c.Method == "editMessageText" {
			texts = append(texts, c)
		}
	}
	for _, c := range texts {
		if !hasHebrew(c.Text) || !startsRTL(c.Text) {
			t.Errorf("%s text is not Hebrew starting right to left: %q", c.Method, c.Text)
		}
	}
	checkMarkup(t, srv.Calls(""))

	if err := a.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The password is in no call the bot made, and in no log line.
	for _, c := range srv.Calls("") {
		for k, v := range c.Fields {
			if strings.Contains(v, password) {
				t.Errorf("%s field %s holds the password: %q", c.Method, k, v)
			}
		}
	}
	if strings.Contains(a.logs.String(), password) {
		t.Errorf("password logged:\n%s", a.logs.String())
	}
	a.noWarnings()
	t.Logf("conversation:\n%s", dump(a.botMessages(chat)))
}

// TestPollingPerChatOrder pushes 20 updates for each of 50 chats,
// interleaved, through the whole bot: each chat's replies must come in the
// order of its updates while chats are served in parallel. A chat
// alternates a deep link that starts a guest lookup of a new order number
// (the reply names the number) with a wrong email (a portal lookup that
// fails and asks for the number again).
func TestPollingPerChatOrder(t *testing.T) {
	const chats, perChat = 50, 20
	srv := telegramtest.NewServer(t)
	order := func(c, i int) string { return fmt.Sprintf("SB-7%03d%02d", c, i) }
	var last int64
	for i := range perChat {
		for c := range chats {
			u := telegramtest.User{ID: int64(1000 + c), LanguageCode: "en"}
			if i%2 == 0 {
				last = srv.PushText(u, "/start track_"+order(c, i))
			} else {
				last = srv.PushText(u, "nobody@example.com")
			}
		}
	}
	// Per chat and pair of updates: the email prompt naming the order, then
	// "not found" with both answers kept — until the chat's guesses run out
	// (flows.MaxGuestMisses) and guest lookups pause.
	paused := msg(t, "en", "order.too_many.prompt", map[string]any{"Minutes": msg(t, "en", "common.minutes", map[string]any{"Count": 15})})
	want := make([][]string, chats)
	for c := range chats {
		for i := 0; i < perChat; i += 2 {
			answer := paused
			if i/2 < flows.MaxGuestMisses-1 {
				answer = msg(t, "en", "order.fix_lookup.prompt", map[string]any{"order": order(c, i), "email": "nobody@example.com", "Changed": false})
			}
			want[c] = append(want[c], msg(t, "en", "order.ask_email.prompt", map[string]any{"order": order(c, i)}), answer)
		}
	}
	a := openApp(t, srv, config(srv, t.TempDir()), nil)

	// One deadline for all: a chat still short of replies fails the test.
	deadline := time.Now().Add(2 * time.Minute)
	if !srv.WaitConfirmed(last, time.Until(deadline)) {
		t.Fatalf("updates not all confirmed: offset %d, last update %d", srv.Confirmed(), last)
	}
	// Every reply is committed and queued once its update is confirmed;
	// wait until all are sent. A screen (a reply with buttons) queued
	// behind a newer screen of the same chat is superseded, not sent, so
	// a chat's replies are those it was due, in order, some prompts left
	// out, ending with the last.
	if !srv.WaitFor(time.Until(deadline), func() bool { n, _ := a.m.Telegram.Backlog(); return n == 0 }) {
		t.Fatalf("replies not all sent")
	}
	for c := range chats {
		chat := int64(1000 + c)
		var got []string
		for _, m := range a.botMessages(chat) {
			got = append(got, m.Text)
		}
		if !inOrder(got, want[c]) || len(got) == 0 || got[len(got)-1] != want[c][len(want[c])-1] {
			t.Errorf("chat %d replies %q, want those of %q in order (superseded screens left out), ending with the last", chat, got, want[c])
		}
	}
}

// inOrder reports whether got is want with some elements left out.
func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		for i < len(want) && want[i] != g {
			i++
		}
		if i == len(want) {
			return false
		}
		i++
	}
	return true
}

// textUpdate is the JSON of a private text message update from u.
func textUpdate(id int64, u telegramtest.User, messageID int, text string) []byte {
	b, err := json.Marshal(map[string]any{
		"update_id": id,
		"message": map[string]any{
			"message_id": messageID,
			"from":       map[string]any{"id": u.ID, "is_bot": false, "first_name": u.FirstName, "language_code": u.LanguageCode},
			"chat":       map[string]any{"id": u.ID, "first_name": u.FirstName, "type": "private"},
			"date":       time.Now().Unix(),
			"text":       text,
		},
	})
	if err != nil {
		panic(err) // the map above always marshals
	}
	return b
}

// post sends update to the webhook at url as Telegram does, with secret in
// the header unless it is empty, and returns the status.
func post(t *testing.T, url, secret string, update []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(update))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post update: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestWebhook serves the webhook on a loopback port: requests without the
// secret are refused and not handled, an update is committed before the
// 200, and a redelivered update is applied once.
func TestWebhook(t *testing.T) {
	const secret = "hook-s3cret_token"
	srv := telegramtest.NewServer(t)
	cfg := config(srv, t.TempDir())
	cfg.TelegramWebhookListen = "127.0.0.1:0"
	cfg.TelegramWebhookSecret = secret
	a := openApp(t, srv, cfg, nil)
	addr, _ := a.logs.waitFor(t, "webhook listening")["addr"].(string)
	if addr == "" {
		t.Fatal("webhook address not logged")
	}
	url := "http://" + addr + "/"
	const chat = 77
	u := telegramtest.User{ID: chat, FirstName: "Michael", LanguageCode: "en"}

	for name, sec := range map[string]string{"missing secret": "", "wrong secret": "not-" + secret} {
		if got := post(t, url, sec, textUpdate(500, u, 1, "/help")); got != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, got)
		}
	}
	if got := post(t, url, secret, textUpdate(501, u, 2, "/start")); got != http.StatusOK {
		t.Fatalf("valid update: status %d, want 200", got)
	}
	// Telegram retries an update it got no 200 for: the same update again.
	if got := post(t, url, secret, textUpdate(501, u, 2, "/start")); got != http.StatusOK {
		t.Fatalf("redelivered update: status %d, want 200", got)
	}
	if got := post(t, url, secret, textUpdate(502, u, 3, "/help")); got != http.StatusOK {
		t.Fatalf("second update: status %d, want 200", got)
	}
	help := msg(t, "en", "help.text", nil)
	a.await(chat, 0, "the help text", containing(help))

	// One chat's replies keep their order: had update 500 or the second
	// 501 been handled, their replies would show before the help text.
	var got []string
	for _, m := range a.botMessages(chat) {
		got = append(got, m.Text)
	}
	want := []string{msg(t, "en", "common.welcome", nil) + "\n\n" + msg(t, "en", "menu.prompt", nil), help}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chat replies (-want +got):\n%s", diff)
	}
	if calls := srv.Calls("getUpdates"); len(calls) != 0 {
		t.Errorf("getUpdates called %d times in webhook mode", len(calls))
	}
	a.noWarnings("webhook request with a wrong secret")
}

// TestRateLimitStorm answers sendMessage with 429 retry_after=1 to more
// calls than there are chats sending at once: the bot must pause all
// sending for the second Telegram asks, then deliver every reply.
func TestRateLimitStorm(t *testing.T) {
	const chats = 5
	srv := telegramtest.NewServer(t)
	// More faults than chats: the calls in flight when the first 429 comes
	// back cannot use them all up, so a successful call must wait out the
	// pause.
	srv.Inject(telegramtest.Fault{Method: "sendMessage", Code: http.StatusTooManyRequests, RetryAfter: 1, Times: chats + 2})
	a := openApp(t, srv, config(srv, t.TempDir()), nil)
	for c := range chats {
		srv.PushText(telegramtest.User{ID: int64(300 + c), LanguageCode: "en"}, "/start")
	}
	want := []string{msg(t, "en", "common.welcome", nil) + "\n\n" + msg(t, "en", "menu.prompt", nil)}
	if !srv.WaitFor(wait, func() bool {
		for c := range chats {
			if len(a.botMessages(int64(300+c))) < len(want) {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("timed out waiting for the replies")
	}

	calls := srv.Calls("sendMessage")
	var first time.Time
	var limited int
	for _, c := range calls {
		switch {
		case c.Code == http.StatusTooManyRequests:
			limited++
			if first.IsZero() {
				first = c.Time
			}
		case first.IsZero():
			t.Errorf("sendMessage succeeded before the 429 storm: %+v", c)
		case c.Time.Sub(first) < time.Second:
			t.Errorf("sendMessage to chat %d succeeded %s after the first 429, want ≥ retry_after (1s)", c.ChatID, c.Time.Sub(first))
		}
	}
	if limited != chats+2 {
		t.Errorf("%d calls answered 429, want %d", limited, chats+2)
	}
	for c := range chats {
		chat := int64(300 + c)
		var got []string
		for _, m := range a.botMessages(chat) {
			got = append(got, m.Text)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("chat %d replies (-want +got):\n%s", chat, diff)
		}
	}
	a.logs.waitFor(t, "rate limited, pausing all sends")
}

// TestRestartDeliversPending commits replies that Telegram keeps refusing
// with 500, stops the bot, and starts it again on the same data directory
// against a healthy Bot API: the replies left in the outbox arrive, once.
func TestRestartDeliversPending(t *testing.T) {
	const chat = 555
	dir := t.TempDir()
	u := telegramtest.User{ID: chat, LanguageCode: "en"}

	broken := telegramtest.NewServer(t)
	broken.Inject(telegramtest.Fault{Method: "sendMessage", Code: http.StatusInternalServerError})
	first := openApp(t, broken, config(broken, dir), func(o *telegram.Options) { o.MaxAttempts = 3 })
	id := broken.PushText(u, "/start")
	first.logs.waitFor(t, "send failing, retrying with backoff")
	if !broken.WaitConfirmed(id, wait) {
		t.Fatal("update not confirmed")
	}
	pending, err := first.m.Engine.Pending(context.Background(), "telegram", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range pending {
		want = append(want, e.Reply.Text)
	}
	if len(want) == 0 {
		t.Fatal("no reply pending after the failed sends")
	}
	if err := first.stop(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	for _, c := range broken.Calls("sendMessage") {
		if c.OK() {
			t.Errorf("broken server accepted a message: %+v", c)
		}
	}

	healthy := deliveredAfterRestart(t, dir, chat, want)
	if n := len(healthy.Calls("sendMessage")); n != len(want) {
		t.Errorf("%d sendMessage calls after restart, want %d", n, len(want))
	}

	// Nothing is left to deliver a third time.
	third := openApp(t, healthy, config(healthy, dir), nil)
	left, err := third.m.Engine.Pending(context.Background(), "telegram", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("%d replies still pending after they were delivered: %+v", len(left), left)
	}
}

// clearEnv unsets the environment variables ParseFlags falls back to, so
// the machine's environment does not leak into a test.
func clearEnv(t *testing.T) {
	for _, name := range []string{"SUPPORTBOT_DATA_DIR", "SUPPORTBOT_LANG", "PORTAL_URL", "SUPPORTBOT_KEY",
		"SUPPORTBOT_LOG_LEVEL", "SUPPORTBOT_LOG_FORMAT", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_WEBHOOK_LISTEN",
		"TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_PATH", "SUPPORTBOT_SHUTDOWN_TIMEOUT",
		"SUPPORTBOT_KEY_FILE", "TELEGRAM_BOT_TOKEN_FILE", "TELEGRAM_WEBHOOK_SECRET_FILE",
		"TELEGRAM_GLOBAL_RATE", "TELEGRAM_CHAT_RATE"} {
		t.Setenv(name, "")
	}
	for _, ev := range flagEnv { // every other setting, the Slack ones included
		t.Setenv(ev, "")
	}
}

func TestParseFlagsRejects(t *testing.T) {
	clearEnv(t)
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	unwritable := filepath.Join(file, "data")
	for _, tc := range []struct {
		name string
		args []string
		want string // the error must name this
	}{
		{"data dir under a file", []string{"--data-dir", unwritable}, unwritable},
		{"webhook without secret", []string{"--data-dir", t.TempDir(), "--telegram-token", "1:x", "--telegram-webhook-listen", "127.0.0.1:0"}, "--telegram-webhook-secret"},
		{"bad language", []string{"--data-dir", t.TempDir(), "--lang", "fr"}, "--lang"},
		{"bad log level", []string{"--data-dir", t.TempDir(), "--log-level", "loud"}, "--log-level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			m := NewMain()
			m.Stderr = &stderr
			err := m.ParseFlags(tc.args)
			if err == nil {
				t.Fatalf("ParseFlags(%q) = nil, want an error", tc.args)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseFlags(%q) = %q, want it to name %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestParseFlagsUnknownFlag(t *testing.T) {
	clearEnv(t)
	var stderr bytes.Buffer
	m := NewMain()
	m.Stderr = &stderr
	if err := m.ParseFlags([]string{"--no-such-flag"}); !errors.Is(err, errUsage) {
		t.Errorf("ParseFlags = %v, want errUsage", err)
	}
	if !strings.Contains(stderr.String(), "-data-dir") {
		t.Errorf("usage not printed: %q", stderr.String())
	}
}

// TestOpenDataDirInUse opens a second Main on the data directory of a
// running one: it must fail at once with an error saying so.
func TestOpenDataDirInUse(t *testing.T) {
	srv := telegramtest.NewServer(t)
	dir := t.TempDir()
	openApp(t, srv, config(srv, dir), nil)

	m := NewMain()
	m.Config = config(srv, dir)
	m.Stderr = io.Discard
	err := m.Open(context.Background())
	defer m.Close()
	if err == nil {
		t.Fatal("second Open on the same data directory succeeded")
	}
	if !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open = %q, want an error saying %s is in use", err, dir)
	}
}

// TestConsole runs the terminal chat the way a developer does: a login and
// the order history, typed on stdin, in English and in Hebrew.
func TestConsole(t *testing.T) {
	clearEnv(t)
	const password = "demo-dana"
	input := "/login\ndana.levi@example.com\n" + password + "\n/orders\n"
	for _, lang := range []string{"en", "he"} {
		t.Run(lang, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"--data-dir", t.TempDir(), "--lang", lang}
			if err := run(context.Background(), args, strings.NewReader(input), &stdout, &stderr); err != nil {
				t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
			}
			out := stdout.String()
			for _, want := range []string{
				msg(t, lang, "common.welcome", nil),
				msg(t, lang, "login.ask_email.prompt", nil),
				"SB-104233", // the order history lists Dana's orders
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, password) || strings.Contains(stderr.String(), password) {
				t.Errorf("password echoed:\n%s\n%s", out, stderr.String())
			}
			if lang == "he" && !hasHebrew(out) {
				t.Errorf("no Hebrew in the output:\n%s", out)
			}
			t.Logf("stdout:\n%s", out)
		})
	}
}

// TestStopDuringStartup stops the bot while it starts (SIGTERM right after
// launch): Run returns at once, and a shutdown is no error worth logging.
func TestStopDuringStartup(t *testing.T) {
	srv := telegramtest.NewServer(t)
	logs := newLogBuffer()
	m := NewMain()
	m.Config = config(srv, t.TempDir())
	m.Stderr = logs
	m.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m.TelegramOptions = fastOptions
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Run(ctx); err != nil {
		t.Errorf("Run = %v, want nil after a shutdown", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	a := &app{t: t, m: m, srv: srv, logs: logs}
	a.noWarnings()
}

// runMain validates, opens and runs m until the test ends or the stop it
// returns is called, failing the test on any error on the way.
func runMain(t *testing.T, m *Main) (stop func() error) {
	t.Helper()
	if err := m.Config.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		cancel()
		m.Close()
		t.Fatalf("Open: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(wait):
				runErr = errors.New("Run did not return after cancel")
			}
			if err := m.Close(); err != nil && runErr == nil {
				runErr = fmt.Errorf("Close: %w", err)
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return stop
}

// deliveredAfterRestart starts the bot again on dir against a healthy Bot
// API and checks that chat receives exactly want, the replies an earlier
// run left pending. It returns that Bot API, for further checks.
func deliveredAfterRestart(t *testing.T, dir string, chat int64, want []string) *telegramtest.Server {
	t.Helper()
	healthy := telegramtest.NewServer(t)
	second := openApp(t, healthy, config(healthy, dir), nil)
	healthy.WaitBotMessages(chat, len(want), wait)
	if err := second.stop(); err != nil {
		t.Fatalf("second run: %v", err)
	}
	var got []string
	for _, m := range second.botMessages(chat) {
		got = append(got, m.Text)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivered after restart (-want +got):\n%s", diff)
	}
	return healthy
}
