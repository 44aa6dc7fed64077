package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/slack-go/slack/socketmode"

	"supportbot/bot"
	"supportbot/bot/slack/slackfake"
	"supportbot/locales"
	"supportbot/portal"
	"supportbot/portal/demo"
	"supportbot/store"
)

const (
	secret   = "test-signing-secret"
	staffID  = "U1"
	outsider = "U9"
	chanShip = "CSHIP"
	chanBill = "CBILL"
	ticketID = "T-5001"
	chatKey  = "telegram:42"
	danaMail = "dana.levi@example.com"
)

// testEngine is the part of the engine the adapter sees, over a real
// bbolt store: Handle commits one reply per event and dedupes by UpdateID.
type testEngine struct {
	db   *store.DB
	wake chan struct{}

	mu    sync.Mutex
	calls []bot.Inbound // every Handle call, duplicates included
}

var _ Engine = (*testEngine)(nil)

func (e *testEngine) Handle(ctx context.Context, in bot.Inbound) ([]bot.Envelope, error) {
	e.mu.Lock()
	e.calls = append(e.calls, in)
	e.mu.Unlock()
	if seen, err := e.db.Handled(ctx, in.Key, in.UpdateID); err != nil || seen {
		return nil, err
	}
	return e.db.Commit(ctx, bot.Commit{
		Session:  bot.Session{Key: in.Key},
		UpdateID: in.UpdateID,
		Replies:  []bot.Reply{{Text: in.Event + "|" + in.Vars["author"] + "|" + in.Vars["text"] + in.Vars["note"]}},
		Lang:     "en",
	})
}

func (e *testEngine) Pending(ctx context.Context, ch string, after uint64, limit int) ([]bot.Envelope, error) {
	return e.db.Pending(ctx, ch, after, limit)
}

func (e *testEngine) Delivered(ctx context.Context, ids ...uint64) error {
	return e.db.Delivered(ctx, ids...)
}

func (e *testEngine) Wake(string) <-chan struct{} { return e.wake }

func (e *testEngine) handled() []bot.Inbound {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]bot.Inbound(nil), e.calls...)
}

// commit files an envelope for the ticket's Slack thread, as the
// customer's flows do, and wakes the adapter.
func (e *testEngine) commit(t *testing.T, event, text string, vars map[string]string) {
	t.Helper()
	v := map[string]string{"event": event, "ticket": ticketID, "chat": chatKey, "lang": "en",
		"name": "Dana", "email": danaMail, "department": "shipping"}
	for k, x := range vars {
		v[k] = x
	}
	_, err := e.db.Commit(context.Background(), bot.Commit{
		Session: bot.Session{Key: chatKey},
		Replies: []bot.Reply{{To: "slack:" + ticketID, Text: text, Vars: v}},
		Lang:    "en",
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

type harness struct {
	t      *testing.T
	fake   *slackfake.Server
	path   string
	db     *store.DB
	eng    *testEngine
	portal *portal.Client
	bundle *i18n.Bundle
	a      *Adapter
	srv    *httptest.Server // HTTP mode: the adapter's handler
	stop   func()

	mu        sync.Mutex
	delivered []bot.Envelope
}

func bundle(t *testing.T) *i18n.Bundle {
	t.Helper()
	b, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	// Until locales embeds the staff files, load them here.
	for _, f := range []string{"staff.en.toml", "staff.he.toml"} {
		if _, err := b.LoadMessageFile(filepath.Join("..", "..", "locales", f)); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func newHarness(t *testing.T, socket bool) *harness {
	t.Helper()
	h := &harness{t: t, fake: slackfake.New(t), path: filepath.Join(t.TempDir(), "bot.db"), bundle: bundle(t)}
	h.fake.AddUser(staffID, "avi", "Avi Cohen", "Avi")
	h.fake.AddUser(outsider, "eve", "Eve Stranger", "")
	ps := httptest.NewServer(demo.New(demo.Options{}))
	t.Cleanup(ps.Close)
	h.portal = portal.NewClient(ps.URL, portal.WithStaffKey(demo.DefaultStaffKey))
	h.eng = &testEngine{wake: make(chan struct{}, 1)}
	h.open()
	h.start(socket)
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *harness) open() {
	db, err := store.Open(h.path, store.Options{Key: make([]byte, store.KeySize), Timeout: time.Second})
	if err != nil {
		h.t.Fatal(err)
	}
	h.db, h.eng.db = db, db
}

// start makes a new Adapter on the store and runs it: Run in Socket
// Mode, else the outbox under an httptest server of Handler.
func (h *harness) start(socket bool) {
	h.t.Helper()
	cfg := Config{
		BotToken: "xoxb-test", APIURL: h.fake.APIURL(),
		Channels: map[string]string{"shipping": chanShip, "billing": chanBill},
		Staff:    []string{staffID},
		Bundle:   h.bundle, Engine: h.eng, Portal: h.portal, KV: h.db.KV("slack"),
		Deliver: func(envs ...bot.Envelope) {
			h.mu.Lock()
			h.delivered = append(h.delivered, envs...)
			h.mu.Unlock()
		},
		Log: slog.New(slog.NewTextHandler(testWriter{h.t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if socket {
		cfg.AppToken = "xapp-test"
	} else {
		cfg.SigningSecret, cfg.Listen = secret, "127.0.0.1:0"
	}
	a, err := New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.a = a
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	if socket {
		go func() { a.Run(ctx); close(done) }()
	} else {
		h.srv = httptest.NewServer(a.Handler())
		go func() { a.out.run(ctx); close(done) }()
	}
	h.stop = func() {
		cancel()
		<-done
		if h.srv != nil {
			h.srv.Close()
		}
		a.wg.Wait()
		h.db.Close()
	}
}

// restart stops the adapter, reopens the store and starts a new one.
func (h *harness) restart() {
	h.stop()
	h.open()
	h.start(false)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (h *harness) url(path string) string { return h.srv.URL + path }

// root waits for the ticket's root message and returns it.
func (h *harness) root() slackfake.Message {
	h.t.Helper()
	var m slackfake.Message
	h.fake.WaitFor(h.t, func() bool {
		for _, x := range h.fake.Messages(chanShip) {
			if x.ThreadTS == "" {
				m = x
				return true
			}
		}
		return false
	})
	return m
}

// drained waits until the Slack outbox is empty.
func (h *harness) drained() {
	h.t.Helper()
	h.fake.WaitFor(h.t, func() bool {
		envs, err := h.eng.Pending(context.Background(), channelName, 0, 10)
		return err == nil && len(envs) == 0
	})
}

func (h *harness) events(event string) []bot.Inbound {
	var out []bot.Inbound
	for _, in := range h.eng.handled() {
		if in.Event == event {
			out = append(out, in)
		}
	}
	return out
}

func (h *harness) newTicket() slackfake.Message {
	h.t.Helper()
	h.eng.commit(h.t, evNew, "My SIM card has not arrived <yet> & I'm worried", map[string]string{"subject": "SIM not delivered"})
	m := h.root()
	h.drained()
	return m
}

func TestNewTicketThenMessage(t *testing.T) {
	h := newHarness(t, false)
	root := h.newTicket()
	blocks := jsonText(root.Blocks)
	for _, want := range []string{ticketID, "SIM not delivered", danaMail, "Dana", "shipping", "English",
		"&lt;yet&gt; &amp; I", actionClaim, actionReply, actionClose, `"value":"T-5001"`, "Recent orders"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("root blocks lack %q:\n%s", want, blocks)
		}
	}
	if !strings.Contains(string(root.Metadata), "supportbot_envelope") {
		t.Errorf("root metadata = %s", root.Metadata)
	}
	h.eng.commit(t, evMessage, "Any news?", nil)
	h.drained()
	thread := h.fake.Thread(chanShip, root.TS)
	if len(thread) != 1 || thread[0].Text != "*Dana:* Any news?" {
		t.Fatalf("thread = %+v, want one message from Dana", thread)
	}
	h.eng.commit(t, evRating, "", map[string]string{"rating": "4"})
	h.drained()
	thread = h.fake.Thread(chanShip, root.TS)
	if got := thread[len(thread)-1].Text; got != "Rated 4/5 ★★★★☆" {
		t.Errorf("rating note = %q", got)
	}
	l, _, _ := h.a.loadLink(context.Background(), ticketID)
	if l.TS != root.TS || l.Channel != chanShip || l.Chat != chatKey || l.Rating != "4" {
		t.Errorf("link = %+v", l)
	}
}

func TestUnknownDepartmentUsesFirstChannel(t *testing.T) {
	h := newHarness(t, false)
	h.eng.commit(t, evNew, "hi", map[string]string{"department": "nowhere"})
	h.fake.WaitFor(t, func() bool { return len(h.fake.Messages(chanBill)) == 1 })
}

func TestRateLimitedPostWaitsAndPostsOnce(t *testing.T) {
	h := newHarness(t, false)
	h.fake.RateLimit("chat.postMessage", 1, 1)
	h.newTicket()
	if n := len(h.fake.Messages(chanShip)); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	calls := h.fake.Calls("chat.postMessage")
	if len(calls) != 2 || calls[0].Status != http.StatusTooManyRequests {
		t.Errorf("postMessage calls = %+v; want a 429, then a retry after Retry-After", calls)
	}
}

func TestFailAfterApplyDoesNotDoublePost(t *testing.T) {
	h := newHarness(t, false)
	h.fake.FailAfterApply("chat.postMessage", 1, http.StatusInternalServerError)
	root := h.newTicket()
	h.fake.FailAfterApply("chat.postMessage", 1, http.StatusBadGateway)
	h.eng.commit(t, evMessage, "Hello?", nil)
	h.drained()
	if n := len(h.fake.Messages(chanShip)); n != 2 {
		t.Errorf("%d messages, want root + 1", n)
	}
	if n := len(h.fake.Thread(chanShip, root.TS)); n != 1 {
		t.Errorf("thread has %d messages, want 1", n)
	}
}

func TestRestartPostsPendingOnce(t *testing.T) {
	h := newHarness(t, false)
	root := h.newTicket()
	// The post applies but its answer is lost, and the check fails too:
	// the envelope stays pending across the restart.
	h.fake.FailAfterApply("chat.postMessage", 1, http.StatusInternalServerError)
	h.fake.Fail("conversations.replies", 1, http.StatusServiceUnavailable)
	h.eng.commit(t, evMessage, "Still there?", nil)
	h.fake.WaitFor(t, func() bool { return len(h.fake.Calls("conversations.replies")) >= 1 })
	h.restart()
	h.drained()
	// And a message committed while the adapter is down.
	h.stop()
	h.open()
	h.eng.commit(t, evMessage, "Hello after restart", nil)
	h.start(false)
	h.drained()
	thread := h.fake.Thread(chanShip, root.TS)
	if len(thread) != 2 {
		t.Fatalf("thread = %+v, want 2 messages, each once", thread)
	}
}

func TestClaim(t *testing.T) {
	h := newHarness(t, false)
	root := h.newTicket()

	// An outsider is refused and nothing changes.
	code, _ := h.fake.PostInteraction(t, h.url("/slack/interactivity"), secret,
		h.fake.BlockAction(outsider, "eve", actionClaim, ticketID, chanShip, root.TS, ""))
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	h.fake.WaitFor(t, func() bool { return len(h.fake.Ephemerals()) == 1 })
	if e := h.fake.Ephemerals()[0]; e.User != outsider || !strings.Contains(e.Text, "Only support staff") {
		t.Errorf("ephemeral = %+v", e)
	}
	if len(h.fake.Calls("chat.update")) != 0 || len(h.events(evClaimed)) != 0 {
		t.Fatal("an outsider's claim changed something")
	}

	action := h.fake.BlockAction(staffID, "avi", actionClaim, ticketID, chanShip, root.TS, "")
	h.fake.PostInteraction(t, h.url("/slack/interactivity"), secret, action)
	h.fake.WaitFor(t, func() bool {
		return len(h.fake.Calls("chat.update")) == 1 && len(h.fake.Thread(chanShip, root.TS)) == 1
	})
	claimed := h.events(evClaimed)
	if len(claimed) != 1 || claimed[0].Key != chatKey || claimed[0].Vars["author"] != "Avi" || claimed[0].UpdateID >= 0 {
		t.Fatalf("claimed = %+v", claimed)
	}
	h.mu.Lock()
	n := len(h.delivered)
	h.mu.Unlock()
	if n != 1 {
		t.Errorf("delivered %d envelopes to the customer, want 1", n)
	}
	m := h.root()
	if strings.Contains(string(m.Blocks), actionClaim) || !strings.Contains(jsonText(m.Blocks), "Claimed by <@U1>") {
		t.Errorf("claimed root blocks = %s", m.Blocks)
	}
	// The same action again (a retry) changes nothing.
	h.fake.PostInteraction(t, h.url("/slack/interactivity"), secret, action, slackfake.WithRetry(1, "http_timeout"))
	if len(h.events(evClaimed)) != 1 || len(h.fake.Calls("chat.update")) != 1 {
		t.Error("a retried claim was applied twice")
	}
	pt, err := h.portal.StaffTicket(context.Background(), ticketID)
	if err != nil || pt.Ticket.Assignee != "Avi" {
		t.Errorf("portal assignee = %q, %v", pt.Ticket.Assignee, err)
	}
}

func TestReplyModal(t *testing.T) {
	h := newHarness(t, false)
	root := h.newTicket()
	h.fake.PostInteraction(t, h.url("/slack/interactivity"), secret,
		h.fake.BlockAction(staffID, "avi", actionReply, ticketID, chanShip, root.TS, ""))
	h.fake.WaitFor(t, func() bool { return len(h.fake.Views()) == 1 })
	var view struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	json.Unmarshal(h.fake.Views()[0].View, &view)
	if view.CallbackID != viewReply || view.PrivateMetadata != ticketID {
		t.Fatalf("view = %+v", view)
	}
	code, body := h.fake.PostInteraction(t, h.url("/slack/interactivity"), secret,
		h.fake.ViewSubmission(staffID, "avi", viewReply, ticketID, map[string]map[string]string{blockReply: {inputText: "Your SIM ships <today>"}}))
	if code != http.StatusOK || len(bytes.TrimSpace(body)) != 0 {
		t.Fatalf("submission answered %d %q, want 200 and an empty body", code, body)
	}
	replies := h.events(evReply)
	if len(replies) != 1 || replies[0].Vars["text"] != "Your SIM ships <today>" || replies[0].Vars["author"] != "Avi" {
		t.Fatalf("replies = %+v", replies)
	}
	h.fake.WaitFor(t, func() bool { return len(h.fake.Thread(chanShip, root.TS)) == 1 })
	if got := h.fake.Thread(chanShip, root.TS)[0].Text; !strings.Contains(got, "Sent to the customer by <@U1>") || !strings.Contains(got, "&lt;today&gt;") {
		t.Errorf("note = %q", got)
	}
	pt, err := h.portal.StaffTicket(context.Background(), ticketID)
	if err != nil || !strings.Contains(pt.Ticket.Messages[len(pt.Ticket.Messages)-1].Body, "ships") {
		t.Errorf("portal ticket = %+v, %v", pt, err)
	}
}

func TestThreadMessages(t *testing.T) {
	h := newHarness(t, false)
	root := h.newTicket()
	events := h.url("/slack/events")
	code, _ := h.fake.PostEvent(t, events, secret, h.fake.ThreadMessage(chanShip, root.TS, staffID, "internal: check the courier"))
	if code != http.StatusOK || len(h.events(evReply)) != 0 {
		t.Fatalf("internal talk: %d, %d replies", code, len(h.events(evReply)))
	}
	msg := h.fake.ThreadMessage(chanShip, root.TS, staffID, ">> It ships today")
	h.fake.PostEvent(t, events, secret, msg, slackfake.WithEventID("Ev-1"))
	h.fake.PostEvent(t, events, secret, msg, slackfake.WithEventID("Ev-1"), slackfake.WithRetry(1, "http_timeout"))
	replies := h.events(evReply)
	if len(replies) != 1 || replies[0].Vars["text"] != "It ships today" || replies[0].UpdateID != UpdateID("event:Ev-1") {
		t.Fatalf("replies = %+v, want one", replies)
	}
	// An outsider's ">>" is refused.
	h.fake.PostEvent(t, events, secret, h.fake.ThreadMessage(chanShip, root.TS, outsider, ">> hi"))
	h.fake.WaitFor(t, func() bool { return len(h.fake.Ephemerals()) == 1 })
	if len(h.events(evReply)) != 1 {
		t.Error("an outsider's reply went out")
	}
}

func TestClose(t *testing.T) {
	h := newHarness(t, false)
	root := h.newTicket()
	inter := h.url("/slack/interactivity")
	h.fake.PostInteraction(t, inter, secret, h.fake.BlockAction(staffID, "avi", actionClose, ticketID, chanShip, root.TS, ""))
	h.fake.WaitFor(t, func() bool { return len(h.fake.Views()) == 1 })
	code, _ := h.fake.PostInteraction(t, inter, secret,
		h.fake.ViewSubmission(staffID, "avi", viewClose, ticketID, map[string]map[string]string{blockNote: {inputText: "Courier found it"}}))
	if code != http.StatusOK {
		t.Fatal(code)
	}
	closed := h.events(evClosed)
	if len(closed) != 1 || closed[0].Vars["note"] != "Courier found it" {
		t.Fatalf("closed = %+v", closed)
	}
	h.fake.WaitFor(t, func() bool { return len(h.fake.Calls("chat.update")) == 1 })
	if m := h.root(); strings.Contains(string(m.Blocks), `"actions"`) || !strings.Contains(jsonText(m.Blocks), "Closed by <@U1>") {
		t.Errorf("closed root = %s", m.Blocks)
	}
	// A reply to a closed ticket is refused.
	h.fake.PostEvent(t, h.url("/slack/events"), secret, h.fake.ThreadMessage(chanShip, root.TS, staffID, ">> one more thing"))
	h.fake.WaitFor(t, func() bool { return len(h.fake.Ephemerals()) == 1 })
	if e := h.fake.Ephemerals()[0]; !strings.Contains(e.Text, "is closed") || len(h.events(evReply)) != 0 {
		t.Errorf("ephemeral = %+v", e)
	}
}

func TestHTTPVerification(t *testing.T) {
	h := newHarness(t, false)
	events := h.url("/slack/events")
	ev := h.fake.ThreadMessage(chanShip, "1.2", staffID, "x")
	if code, _ := h.fake.PostEvent(t, events, secret, ev, slackfake.WithBadSignature()); code != http.StatusUnauthorized {
		t.Errorf("bad signature: %d", code)
	}
	if code, _ := h.fake.PostEvent(t, events, secret, ev, slackfake.WithStaleTimestamp()); code != http.StatusUnauthorized {
		t.Errorf("stale: %d", code)
	}
	if code, _ := h.fake.PostCommand(t, h.url("/slack/commands"), secret, h.fake.SlashCommand(staffID, "avi", "/customer", "x", chanShip), slackfake.WithBadSignature()); code != http.StatusUnauthorized {
		t.Errorf("bad command signature: %d", code)
	}
	body := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	code, got := signedPost(t, events, body, "application/json")
	if code != http.StatusOK || string(got) != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification: %d %q", code, got)
	}
}

func TestCustomerCommand(t *testing.T) {
	h := newHarness(t, false)
	cmds := h.url("/slack/commands")
	for _, tt := range []struct {
		user, text, want string
	}{
		{staffID, danaMail, danaMail},
		{staffID, "nobody@example.com", "No customer matches"},
		{staffID, " ", "Usage: /customer"},
		{outsider, danaMail, "Only support staff"},
	} {
		code, body := h.fake.PostCommand(t, cmds, secret, h.fake.SlashCommand(tt.user, "u", "/customer", tt.text, chanShip))
		var got struct {
			ResponseType string          `json:"response_type"`
			Text         string          `json:"text"`
			Blocks       json.RawMessage `json:"blocks"`
		}
		if err := json.Unmarshal(body, &got); err != nil || code != http.StatusOK || got.ResponseType != "ephemeral" {
			t.Errorf("%s %q: %d %s", tt.user, tt.text, code, body)
			continue
		}
		if !strings.Contains(got.Text+string(got.Blocks), tt.want) {
			t.Errorf("%s %q: answer %s lacks %q", tt.user, tt.text, body, tt.want)
		}
	}
	_, body := h.fake.PostCommand(t, cmds, secret, h.fake.SlashCommand(staffID, "u", "/customer", danaMail, chanShip))
	for _, want := range []string{"Plans", "Recent orders", "Open tickets", ticketID} {
		if !strings.Contains(string(body), want) {
			t.Errorf("answer lacks %q: %s", want, body)
		}
	}
}

func TestSocketMode(t *testing.T) {
	h := newHarness(t, true)
	h.fake.WaitFor(t, h.fake.Connected)
	root := h.newTicket()

	// A thread reply, then Slack redelivers it: applied once.
	env := h.fake.Send(t, "events_api", h.fake.EventCallback(h.fake.ThreadMessage(chanShip, root.TS, staffID, ">> On its way")))
	h.fake.WaitAck(t, env)
	h.fake.Redeliver(t, env)
	// Envelopes are handled in order: once this one is acked, so is the redelivery.
	cmd := h.fake.Send(t, "slash_commands", h.fake.SlashCommand(staffID, "avi", "/customer", danaMail, chanShip))
	ack := h.fake.WaitAck(t, cmd)
	if n := len(h.events(evReply)); n != 1 {
		t.Errorf("%d replies after a redelivery, want 1", n)
	}
	if !strings.Contains(string(ack), `"response_type":"ephemeral"`) || !strings.Contains(string(ack), danaMail) {
		t.Errorf("command ack = %s", ack)
	}

	// A claim over the socket.
	claim := h.fake.Send(t, "interactive", h.fake.BlockAction(staffID, "avi", actionClaim, ticketID, chanShip, root.TS, ""))
	h.fake.WaitAck(t, claim)
	h.fake.Redeliver(t, claim)
	h.fake.WaitFor(t, func() bool { return len(h.fake.Calls("chat.update")) == 1 })
	last := h.fake.Send(t, "slash_commands", h.fake.SlashCommand(staffID, "avi", "/customer", "", chanShip))
	h.fake.WaitAck(t, last)
	if n := len(h.events(evClaimed)); n != 1 {
		t.Errorf("%d claims, want 1", n)
	}
	h.a.wg.Wait()
	if n := len(h.fake.Calls("chat.update")); n != 1 {
		t.Errorf("%d chat.update calls, want 1", n)
	}
}

// TestPayloadCorpus feeds every recorded Slack payload through the HTTP
// or Socket Mode handler: each is accepted or ignored without error.
func TestPayloadCorpus(t *testing.T) {
	h := newHarness(t, false)
	h.newTicket()
	dir := filepath.Join("testdata", "payloads") // copied from the shared corpus; see testdata/SOURCES.md
	files, err := os.ReadDir(dir)
	if err != nil || len(files) < 20 {
		t.Fatalf("payload corpus: %d files, %v", len(files), err)
	}
	for _, f := range files {
		t.Run(f.Name(), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(f.Name(), ".txt") {
				path := "/slack/interactivity"
				if strings.HasPrefix(string(raw), "token=") {
					path = "/slack/commands"
				}
				if code, body := signedPost(t, h.url(path), raw, "application/x-www-form-urlencoded"); code != http.StatusOK {
					t.Errorf("%s: %d %s", path, code, body)
				}
				return
			}
			var probe struct {
				Type       string `json:"type"`
				EnvelopeID string `json:"envelope_id"`
			}
			if err := json.Unmarshal(raw, &probe); err != nil {
				t.Fatal(err)
			}
			switch {
			case probe.EnvelopeID != "" || probe.Type == "hello" || probe.Type == "disconnect":
				var req socketmode.Request
				if err := json.Unmarshal(raw, &req); err != nil {
					t.Fatal(err)
				}
				res := h.a.socketRequest(context.Background(), &req)
				if req.Type == "slash_commands" && res.body == nil {
					t.Error("slash command not answered")
				}
				h.a.later(res.key, res.after)
			case probe.Type == "block_actions" || probe.Type == "view_submission" || probe.Type == "shortcut":
				body := []byte("payload=" + url.QueryEscape(string(raw)))
				if code, b := signedPost(t, h.url("/slack/interactivity"), body, "application/x-www-form-urlencoded"); code != http.StatusOK {
					t.Errorf("interactivity: %d %s", code, b)
				}
			default:
				if code, b := signedPost(t, h.url("/slack/events"), raw, "application/json"); code != http.StatusOK {
					t.Errorf("events: %d %s", code, b)
				}
			}
		})
	}
	h.a.wg.Wait()
	if n := len(h.eng.handled()); n != 0 {
		t.Errorf("corpus reached the engine %d times, want 0 (no ticket threads, no staff)", n)
	}
}

func TestUpdateID(t *testing.T) {
	a, b := UpdateID("Ev1"), UpdateID("Ev2")
	if a >= 0 || b >= 0 || a == b || a != UpdateID("Ev1") {
		t.Errorf("UpdateID: %d %d", a, b)
	}
}

func TestNewValidates(t *testing.T) {
	b := bundle(t)
	base := Config{BotToken: "xoxb-1", AppToken: "xapp-1", Channels: map[string]string{"x": "C1"},
		Bundle: b, Engine: &testEngine{}, Portal: portal.NewClient("http://x"), KV: fakeKV{}}
	for name, mod := range map[string]func(*Config){
		"bot token": func(c *Config) { c.BotToken = "xoxp-1" },
		"app token": func(c *Config) { c.AppToken = "xoxb-2" },
		"no mode":   func(c *Config) { c.AppToken = "" },
		"channels":  func(c *Config) { c.Channels = nil },
	} {
		c := base
		mod(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted a bad config", name)
		}
	}
	if _, err := New(base); err != nil {
		t.Errorf("New: %v", err)
	}
}

type fakeKV struct{}

func (fakeKV) Get(context.Context, string) ([]byte, bool, error) { return nil, false, nil }
func (fakeKV) Put(context.Context, string, []byte) error         { return nil }
func (fakeKV) Delete(context.Context, string) error              { return nil }

func signedPost(t *testing.T, target string, body []byte, contentType string) (int, []byte) {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slackfake.Sign(secret, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// jsonText undoes JSON's escapes of <, > and &, to search raw JSON.
func jsonText(raw []byte) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(raw))
}

func TestRunHTTPAndPing(t *testing.T) {
	fake := slackfake.New(t)
	db, err := store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{Key: make([]byte, store.KeySize), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := New(Config{BotToken: "xoxb-1", SigningSecret: secret, Listen: "127.0.0.1:0", APIURL: fake.APIURL(),
		Channels: map[string]string{"x": "C1"}, Bundle: bundle(t), Engine: &testEngine{db: db, wake: make(chan struct{})},
		Portal: portal.NewClient("http://127.0.0.1:1"), KV: db.KV("slack")})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	fake.WaitFor(t, func() bool { return len(fake.Calls("")) > 0 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestMessagesExist checks that every staff message ID in the code exists
// in both languages.
func TestMessagesExist(t *testing.T) {
	b := bundle(t)
	re := regexp.MustCompile(`"(staff\.[a-z_.]*[a-z_])"`)
	ids := map[string]bool{}
	for _, f := range []string{"slack.go", "outbox.go", "render.go", "actions.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			ids[m[1]] = true
		}
	}
	for _, id := range []string{"staff.lang.en", "staff.lang.he"} {
		ids[id] = true
	}
	if len(ids) < 30 {
		t.Fatalf("found only %d message IDs", len(ids))
	}
	for _, lang := range []string{"en", "he"} {
		loc := i18n.NewLocalizer(b, lang)
		for id := range ids {
			msg, tag, err := loc.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id})
			if err != nil || tag.String() != lang || msg == "" {
				t.Errorf("%s %s: %q %v %v", lang, id, msg, tag, err)
			}
		}
	}
}

// TestUsersInfoMissing: without users.info the author is the payload's
// user name, else the user ID, and users.info is not asked on every reply.
func TestUsersInfoMissing(t *testing.T) {
	h := newHarness(t, false)
	h.fake.Unimplement("users.info")
	root := h.newTicket()
	h.fake.PostInteraction(t, h.url("/slack/interactivity"), secret,
		h.fake.BlockAction(staffID, "avi.handle", actionClaim, ticketID, chanShip, root.TS, ""))
	claimed := h.events(evClaimed)
	if len(claimed) != 1 || claimed[0].Vars["author"] != "avi.handle" {
		t.Fatalf("claimed = %+v, want the payload's user name", claimed)
	}
	// A message event carries no name: the user ID stands in.
	h.fake.PostEvent(t, h.url("/slack/events"), secret, h.fake.ThreadMessage(chanShip, root.TS, staffID, ">> On its way"))
	replies := h.events(evReply)
	if len(replies) != 1 || replies[0].Vars["author"] != staffID {
		t.Fatalf("replies = %+v, want author %s", replies, staffID)
	}
	if n := len(h.fake.Calls("users.info")); n != 1 {
		t.Errorf("users.info called %d times, want 1 (then paused)", n)
	}
	// users.info failing with a 5xx: the fallback, and the reply goes out.
	h.a.namesMu.Lock()
	h.a.namesOff = time.Time{}
	h.a.namesMu.Unlock()
	h.fake.Fail("users.info", 5, http.StatusServiceUnavailable)
	h.fake.PostInteraction(t, h.url("/slack/interactivity"), secret,
		h.fake.ViewSubmission(staffID, "avi.handle", viewReply, ticketID, map[string]map[string]string{blockReply: {inputText: "Tracking: 123"}}))
	replies = h.events(evReply)
	if len(replies) != 2 || replies[1].Vars["author"] != "avi.handle" {
		t.Fatalf("replies = %+v, want the second by avi.handle", replies)
	}
}

// TestPostCannotBeChecked: with no conversations.replies, an ambiguous
// 5xx is not re-posted (at most once), a clear non-application (429, no
// Retry-After) is, and neither blocks the outbox.
func TestPostCannotBeChecked(t *testing.T) {
	h := newHarness(t, false)
	root := h.newTicket()
	h.fake.Unimplement("conversations.replies")
	h.fake.Unimplement("conversations.history")

	// Applied, then a 500: the check is impossible, so no second post.
	h.fake.FailAfterApply("chat.postMessage", 1, http.StatusInternalServerError)
	h.eng.commit(t, evMessage, "First", nil)
	h.drained()
	if n := len(h.fake.Thread(chanShip, root.TS)); n != 1 {
		t.Fatalf("thread has %d messages, want 1 (no re-post)", n)
	}
	// Not applied, a 503: lost (the price of at-most-once), but not stuck.
	h.fake.Fail("chat.postMessage", 1, http.StatusServiceUnavailable)
	h.eng.commit(t, evMessage, "Second", nil)
	h.drained()
	if n := len(h.fake.Thread(chanShip, root.TS)); n != 1 {
		t.Fatalf("thread has %d messages, want 1", n)
	}
	// A 429 without Retry-After is clearly not applied: posted once more.
	h.fake.FailWith("chat.postMessage", 1, http.StatusTooManyRequests, "ratelimited")
	h.eng.commit(t, evMessage, "Third", nil)
	h.drained()
	thread := h.fake.Thread(chanShip, root.TS)
	if len(thread) != 2 || !strings.Contains(thread[1].Text, "Third") {
		t.Fatalf("thread = %+v, want First and Third", thread)
	}
	// An ok:false ratelimited (HTTP 200) is not applied either.
	h.fake.FailWith("chat.postMessage", 1, http.StatusOK, "ratelimited")
	h.eng.commit(t, evMessage, "Fourth", nil)
	h.drained()
	if n := len(h.fake.Thread(chanShip, root.TS)); n != 3 {
		t.Fatalf("thread has %d messages, want 3", n)
	}
	// A new ticket's root behind a 404 history: posted once.
	h.fake.FailWith("conversations.history", 1<<30, http.StatusNotFound, "")
	h.fake.FailAfterApply("chat.postMessage", 1, http.StatusBadGateway)
	h.eng.commit(t, evNew, "Other", map[string]string{"ticket": "T-5002", "department": "billing"})
	h.drained()
	if n := len(h.fake.Messages(chanBill)); n != 1 {
		t.Errorf("billing has %d messages, want 1", n)
	}
}

// TestRestartCannotCheck: a post cut short before a restart, with no way
// to check after it, is not posted a second time and does not block.
func TestRestartCannotCheck(t *testing.T) {
	h := newHarness(t, false)
	root := h.newTicket()
	h.fake.FailAfterApply("chat.postMessage", 1, http.StatusInternalServerError)
	h.fake.Fail("conversations.replies", 1, http.StatusServiceUnavailable)
	h.eng.commit(t, evMessage, "Still there?", nil)
	h.fake.WaitFor(t, func() bool { return len(h.fake.Calls("conversations.replies")) >= 1 })
	h.fake.FailWith("conversations.replies", 1<<30, http.StatusOK, "missing_scope")
	h.restart()
	h.drained()
	h.eng.commit(t, evMessage, "Next", nil)
	h.drained()
	thread := h.fake.Thread(chanShip, root.TS)
	if len(thread) != 2 {
		t.Fatalf("thread = %+v, want each message once", thread)
	}
}

func TestPingWithoutAuthTest(t *testing.T) {
	h := newHarness(t, false)
	ctx := context.Background()
	if err := h.a.Ping(ctx); err != nil || !h.a.isSelf(slackfake.BotUserID) {
		t.Fatalf("Ping: %v (self learned: %v)", err, h.a.isSelf(slackfake.BotUserID))
	}
	h.fake.FailWith("auth.test", 1, http.StatusNotFound, "")
	if err := h.a.Ping(ctx); err != nil {
		t.Errorf("Ping on 404: %v", err)
	}
	for _, code := range []string{"unknown_method", "missing_scope", "not_allowed_token_type"} {
		h.fake.FailWith("auth.test", 1, http.StatusOK, code)
		if err := h.a.Ping(ctx); err != nil {
			t.Errorf("Ping on %s: %v", code, err)
		}
	}
	h.fake.FailWith("auth.test", 1, http.StatusOK, "invalid_auth")
	if err := h.a.Ping(ctx); err == nil {
		t.Error("Ping on invalid_auth: nil")
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	a, err := New(Config{BotToken: "xoxb-1", AppToken: "xapp-1", APIURL: down.URL + "/api/",
		Channels: map[string]string{"x": "C1"}, Bundle: h.bundle, Engine: h.eng, Portal: h.portal, KV: fakeKV{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Ping(ctx); err == nil {
		t.Error("Ping with Slack unreachable: nil")
	}
}

// TestBotMessagesIgnored: the bot's own messages never count as replies.
func TestBotMessagesIgnored(t *testing.T) {
	h := newHarness(t, false)
	root := h.newTicket()
	events := h.url("/slack/events")
	withBotID := h.fake.ThreadMessage(chanShip, root.TS, staffID, ">> from a bot")
	withBotID["bot_id"] = slackfake.BotID
	botMessage := h.fake.ThreadMessage(chanShip, root.TS, "", ">> bot_message")
	botMessage["subtype"] = "bot_message"
	fromSelf := h.fake.ThreadMessage(chanShip, root.TS, slackfake.BotUserID, ">> from myself")
	for _, ev := range []map[string]any{withBotID, botMessage, fromSelf} {
		if code, _ := h.fake.PostEvent(t, events, secret, ev); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	// The bot's user ID learned from auth.test, without authorizations.
	if err := h.a.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"type": "event_callback", "event_id": "EvSelf",
		"event": h.fake.ThreadMessage(chanShip, root.TS, slackfake.BotUserID, ">> again")})
	if code, _ := signedPost(t, events, raw, "application/json"); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	h.a.wg.Wait()
	if n, e := len(h.events(evReply)), len(h.fake.Ephemerals()); n != 0 || e != 0 {
		t.Errorf("bot messages made %d replies and %d ephemerals, want none", n, e)
	}
}

// TestSocketEnvelopes: unknown envelope types and payloads slack-go
// cannot parse are acked (and handled when they are ours); a view
// submission is acked empty; the client survives a disconnect.
func TestSocketEnvelopes(t *testing.T) {
	h := newHarness(t, true)
	h.fake.WaitFor(t, h.fake.Connected)
	root := h.newTicket()

	unknown := h.fake.Send(t, "brand_new_type", map[string]any{"x": 1})
	if ack := h.fake.WaitAck(t, unknown); string(ack) != "null" {
		t.Errorf("unknown envelope ack = %s", ack)
	}
	// blocks as a string: slack-go's parser fails, ours reads the reply.
	msg := h.fake.ThreadMessage(chanShip, root.TS, staffID, ">> Parsed anyway")
	msg["blocks"] = "not-an-array"
	odd := h.fake.Send(t, "events_api", h.fake.EventCallback(msg))
	h.fake.WaitAck(t, odd)
	if r := h.events(evReply); len(r) != 1 || r[0].Vars["text"] != "Parsed anyway" {
		t.Errorf("replies = %+v", r)
	}

	h.fake.Disconnect() // refresh_requested
	h.fake.WaitFor(t, h.fake.Connected)
	sub := h.fake.Send(t, "interactive", h.fake.ViewSubmission(staffID, "avi", viewReply, ticketID,
		map[string]map[string]string{blockReply: {inputText: "Over the socket"}}))
	if ack := h.fake.WaitAck(t, sub); string(ack) != "null" && string(ack) != "{}" {
		t.Errorf("view_submission ack = %s, want empty", ack)
	}
	if n := len(h.events(evReply)); n != 2 {
		t.Errorf("%d replies, want 2", n)
	}
	// A slash command whose payload is the form body as a string.
	form := h.fake.SlashCommand(staffID, "avi", "/customer", danaMail, chanShip)
	cmd := h.fake.Send(t, "slash_commands", form.Encode())
	ack := h.fake.WaitAck(t, cmd)
	var body struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(ack, &body); err != nil || body.ResponseType != "ephemeral" || body.Text == "" {
		t.Errorf("command ack = %s", ack)
	}
}

// TestHTTPAnswers: the shapes of HTTP mode's answers, and a retried
// event that was applied already.
func TestHTTPAnswers(t *testing.T) {
	h := newHarness(t, false)
	root := h.newTicket()
	// ssl_check on the command URL.
	if code, body := signedPost(t, h.url("/slack/commands"), []byte("ssl_check=1&token=x"), "application/x-www-form-urlencoded"); code != http.StatusOK || len(body) != 0 {
		t.Errorf("ssl_check: %d %q", code, body)
	}
	// A command: JSON with its content type.
	form := h.fake.SlashCommand(staffID, "avi", "/customer", danaMail, chanShip)
	body := []byte(form.Encode())
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest(http.MethodPost, h.url("/slack/commands"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slackfake.Sign(secret, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("command: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// A button: 200 and an empty body.
	code, b := h.fake.PostInteraction(t, h.url("/slack/interactivity"), secret,
		h.fake.BlockAction(staffID, "avi", actionReply, ticketID, chanShip, root.TS, ""))
	if code != http.StatusOK || len(b) != 0 {
		t.Errorf("block_actions: %d %q", code, b)
	}
	// An event, then its retry: 200 both times, applied once.
	ev := h.fake.ThreadMessage(chanShip, root.TS, staffID, ">> Once")
	for i := range 2 {
		opts := []slackfake.Option{slackfake.WithEventID("Ev-R")}
		if i > 0 {
			opts = append(opts, slackfake.WithRetry(1, "http_timeout"))
		}
		if code, b := h.fake.PostEvent(t, h.url("/slack/events"), secret, ev, opts...); code != http.StatusOK || len(b) != 0 {
			t.Errorf("event %d: %d %q", i, code, b)
		}
	}
	if n := len(h.events(evReply)); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
}
