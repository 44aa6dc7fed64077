package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot"
	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
)

var _ telegram.Engine = (*bot.Engine)(nil)

func TestNewValidates(t *testing.T) {
	eng := newEngine()
	for name, tc := range map[string]struct {
		token string
		opt   telegram.Options
	}{
		"empty token":           {token: "", opt: telegram.Options{}},
		"listen without secret": {token: "1:x", opt: telegram.Options{Webhook: telegram.Webhook{Listen: ":8443"}}},
		"url without secret":    {token: "1:x", opt: telegram.Options{Webhook: telegram.Webhook{URL: "https://example.com/hook"}}},
		"http url":              {token: "1:x", opt: telegram.Options{Webhook: telegram.Webhook{URL: "http://example.com/hook", Secret: "s"}}},
	} {
		if _, err := telegram.New(tc.token, eng, tc.opt); err == nil {
			t.Errorf("%s: New returned no error", name)
		}
	}
}

func TestPollingStartsByDeletingWebhook(t *testing.T) {
	h := newHarness(t, nil)
	// A webhook left by an earlier deployment blocks getUpdates (409).
	if _, err := http.Post(h.srv.URL+"/bot"+telegramtest.Token+"/setWebhook?url=https://old.example.com/hook", "", nil); err != nil {
		t.Fatal(err)
	}
	h.start()
	id := h.srv.PushText(user(7), "hi")
	h.waitSent(7, 1)
	if !h.srv.WaitConfirmed(id, wait) {
		t.Fatal("update not confirmed")
	}
	var methods []string
	for _, c := range h.srv.Calls("") {
		if !slices.Contains(methods, c.Method) {
			methods = append(methods, c.Method)
		}
	}
	if i, j := slices.Index(methods, "deleteWebhook"), slices.Index(methods, "getUpdates"); i < 0 || j < i {
		t.Errorf("methods in order of first call = %v, want deleteWebhook before getUpdates", methods)
	}
	for _, c := range h.srv.Calls("getUpdates") {
		if !c.OK() {
			t.Errorf("getUpdates answered %d %s", c.Code, c.Description)
		}
	}
}

// TestPerChatOrder pushes 20 updates for each of 50 chats, interleaved;
// each chat's inbounds and replies must keep their order.
func TestPerChatOrder(t *testing.T) {
	const chats, perChat = 50, 20
	h := newHarness(t, func(o *telegram.Options) { o.Workers = 8 })
	for i := range perChat {
		for c := range chats {
			h.srv.PushText(user(int64(100+c)), strconv.Itoa(i))
		}
	}
	h.start()
	h.eng.waitFor(t, "all updates handled and delivered", func() bool {
		_, delivered, undelivered := h.eng.snapshot()
		return len(delivered) == chats*perChat && undelivered == 0
	})
	var want []string
	var wantSent []string
	for i := range perChat {
		want = append(want, strconv.Itoa(i))
		wantSent = append(wantSent, "re: "+strconv.Itoa(i))
	}
	for c := range chats {
		chat := int64(100 + c)
		var got []string
		for _, in := range h.eng.inboundsFor(telegram.Key(chat)) {
			got = append(got, in.Text)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("chat %d inbounds (-want +got):\n%s", chat, diff)
		}
		if diff := cmp.Diff(wantSent, h.sent(chat)); diff != "" {
			t.Errorf("chat %d replies (-want +got):\n%s", chat, diff)
		}
	}
}

// TestSlowChatDoesNotBlockOthers blocks one chat's Handle and expects other
// chats to be served meanwhile.
func TestSlowChatDoesNotBlockOthers(t *testing.T) {
	h := newHarness(t, func(o *telegram.Options) { o.Workers = 8 })
	release := make(chan struct{})
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		if in.Key == telegram.Key(1) {
			<-release
		}
		return echo(in)
	}
	h.srv.PushText(user(1), "slow")
	for c := int64(2); c < 10; c++ {
		h.srv.PushText(user(c), "fast")
	}
	h.start()
	defer close(release)
	h.eng.waitFor(t, "another chat handled while chat 1 is busy", func() bool {
		in, _, _ := h.eng.snapshot()
		return slices.ContainsFunc(in, func(i bot.Inbound) bool { return i.Key != telegram.Key(1) })
	})
}

// TestHandleErrorRefetches fails the first Handle of an update: the update
// is not confirmed but fetched and handled again, the chat's next update
// runs only after it, and another chat's update handled twice is
// de-duplicated by the engine.
func TestHandleErrorRefetches(t *testing.T) {
	h := newHarness(t, nil)
	a := h.srv.PushText(user(1), "first")
	h.srv.PushText(user(2), "other chat")
	c := h.srv.PushText(user(1), "second")

	var mu sync.Mutex
	failed := false
	var confirmedAtRetry int64 = -1
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		mu.Lock()
		defer mu.Unlock()
		if in.UpdateID == a {
			if !failed {
				failed = true
				return nil, errors.New("disk full")
			}
			confirmedAtRetry = h.srv.Confirmed()
		}
		return echo(in)
	}
	h.start()
	if !h.srv.WaitConfirmed(c, wait) {
		t.Fatal("updates not confirmed")
	}
	h.waitSent(1, 2)
	mu.Lock()
	if confirmedAtRetry > a {
		t.Errorf("update %d was confirmed (offset %d) before it committed", a, confirmedAtRetry)
	}
	mu.Unlock()

	var got []string
	for _, in := range h.eng.inboundsFor(telegram.Key(1)) {
		got = append(got, fmt.Sprint(in.UpdateID, " ", in.Text))
	}
	want := []string{fmt.Sprint(a, " first"), fmt.Sprint(a, " first"), fmt.Sprint(c, " second")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chat 1 inbounds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"re: first", "re: second"}, h.sent(1)); diff != "" {
		t.Errorf("chat 1 replies (-want +got):\n%s", diff)
	}
	// Chat 2's update was in the failed batch: handled twice, answered once.
	if n := len(h.eng.inboundsFor(telegram.Key(2))); n != 2 {
		t.Errorf("chat 2 handled %d times, want 2 (redelivered)", n)
	}
	if diff := cmp.Diff([]string{"re: other chat"}, h.waitSent(2, 1)); diff != "" {
		t.Errorf("chat 2 replies (-want +got):\n%s", diff)
	}
	var handleErrs int
	for _, rec := range h.logs.records(t) {
		if rec["msg"] == "handle update" {
			handleErrs++
			if rec["chat"] != telegram.Key(1) {
				t.Errorf("handle error logged with chat %v", rec["chat"])
			}
		}
	}
	if handleErrs != 1 {
		t.Errorf("handle error logged %d times, want 1", handleErrs)
	}
}

func TestWebhook(t *testing.T) {
	const secret = "s3cret-token_x"
	h := newHarness(t, func(o *telegram.Options) {
		o.Webhook = telegram.Webhook{Secret: secret, URL: "https://bot.example.com/telegram"}
	})
	handler := h.ch.Handler()
	post := func(secret string, body string) int {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, telegramtest.WebhookRequest("/telegram", secret, []byte(body)))
		return rec.Code
	}
	update := func(id int, chat int64, text string) string {
		return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1700000000,"chat":{"id":%d,"type":"private","first_name":"Dana"},"from":{"id":%d,"is_bot":false,"first_name":"Dana","language_code":"he"},"text":%q}}`,
			id, id, chat, chat, text)
	}
	h.secrets = []string{"hello webhook", "fail me"}

	if code := post(secret, update(1, 5, "hello webhook")); code != http.StatusServiceUnavailable {
		t.Errorf("before Run: status %d, want 503", code)
	}
	h.start()
	if !h.srv.WaitFor(wait, func() bool { u, _ := h.srv.Webhook(); return u != "" }) {
		t.Fatal("setWebhook not called")
	}
	if u, s := h.srv.Webhook(); u != "https://bot.example.com/telegram" || s != secret {
		t.Errorf("webhook = %q, %q", u, s)
	}

	tests := []struct {
		name    string
		secret  string
		body    string
		want    int
		handled bool
	}{
		{"no secret", "", update(10, 5, "hello webhook"), http.StatusUnauthorized, false},
		{"wrong secret", "s3cret-token_y", update(11, 5, "hello webhook"), http.StatusUnauthorized, false},
		{"bad json", secret, `{"update_id":`, http.StatusBadRequest, false},
		{"not an update", secret, `{"hello":1}`, http.StatusBadRequest, false},
		{"group message ignored", secret, `{"update_id":12,"message":{"message_id":1,"date":1,"chat":{"id":-5,"type":"group"},"text":"hi"}}`, http.StatusOK, false},
		{"undecodable update ignored", secret, `{"update_id":13,"inline_query":{"id":134567890097,"from":{"id":1,"first_name":"x"},"query":"q","offset":""}}`, http.StatusOK, false},
		{"valid", secret, update(14, 5, "hello webhook"), http.StatusOK, true},
		{"handle fails", secret, update(15, 5, "fail me"), http.StatusInternalServerError, true},
	}
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		if in.Text == "fail me" {
			return nil, errors.New("store down")
		}
		return echo(in)
	}
	for _, tc := range tests {
		before := len(h.eng.inboundsFor(telegram.Key(5)))
		if code := post(tc.secret, tc.body); code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, code, tc.want)
		}
		// The handler answers after Handle: no waiting needed.
		if handled := len(h.eng.inboundsFor(telegram.Key(5))) > before; handled != tc.handled {
			t.Errorf("%s: handled = %v, want %v", tc.name, handled, tc.handled)
		}
	}
	h.waitSent(5, 1)
	if got := h.eng.inboundsFor(telegram.Key(5)); len(got) == 0 || got[0].LangHint != "he" {
		t.Errorf("inbounds %+v, want LangHint he", got)
	}
	if n := len(h.srv.Calls("getUpdates")); n != 0 {
		t.Errorf("webhook mode called getUpdates %d times", n)
	}
}

// TestRateLimitPause answers a send with 429 retry_after=1: no send, to that
// chat or any other, may reach the server before the pause is over.
func TestRateLimitPause(t *testing.T) {
	h := newHarness(t, nil)
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		return []bot.Reply{{Text: in.Text + " 1"}, {Text: in.Text + " 2"}, {Text: in.Text + " 3"}}, nil
	}
	h.srv.Inject(telegramtest.Fault{Method: "sendMessage", Times: 1, Code: http.StatusTooManyRequests, RetryAfter: 1})
	h.start()
	h.srv.PushText(user(1), "a")
	first := h.waitCalls("sendMessage", 1)[0]
	if first.Code != http.StatusTooManyRequests {
		t.Fatalf("first send answered %d, want 429", first.Code)
	}
	h.logs.waitFor(t, "rate limited, pausing all sends")
	// Chat 2 writes after the 429: its reply must wait too.
	h.srv.PushText(user(2), "b")
	h.waitSent(1, 3)
	h.waitSent(2, 3)
	resume := first.Time.Add(time.Second)
	for _, c := range h.srv.Calls("") {
		switch c.Method {
		case "sendMessage", "editMessageText", "deleteMessage":
			if c.Time.After(first.Time) && c.Time.Before(resume) {
				t.Errorf("%s to chat %d at +%v, inside the 1 s pause", c.Method, c.ChatID, c.Time.Sub(first.Time))
			}
		}
	}
	if diff := cmp.Diff([]string{"a 1", "a 2", "a 3"}, h.sent(1)); diff != "" {
		t.Errorf("chat 1 (-want +got):\n%s", diff)
	}
}

// TestPerChatRateLimit keeps the default per-chat limit: after a burst of 3,
// one message a second.
func TestPerChatRateLimit(t *testing.T) {
	h := newHarness(t, func(o *telegram.Options) {
		o.PerChatInterval, o.PerChatBurst = 200*time.Millisecond, 3
	})
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		var rs []bot.Reply
		for i := range 5 {
			rs = append(rs, bot.Reply{Text: strconv.Itoa(i)})
		}
		return rs, nil
	}
	h.start()
	pushed := time.Now() // before the first send was scheduled
	h.srv.PushText(user(1), "go")
	calls := h.waitCalls("sendMessage", 5)
	// A burst of 3, then one per interval.
	for i, min := range map[int]time.Duration{3: 200 * time.Millisecond, 4: 400 * time.Millisecond} {
		if d := calls[i].Time.Sub(pushed); d < min {
			t.Errorf("send %d at +%v, want ≥ %v", i, d, min)
		}
	}
}

func TestBlockedUserDeactivates(t *testing.T) {
	h := newHarness(t, nil)
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		return []bot.Reply{{Text: "one"}, {Text: "two"}}, nil
	}
	h.srv.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: 1, Code: http.StatusForbidden})
	h.start()
	h.srv.PushText(user(1), "hi")
	h.srv.PushText(user(2), "hi")
	h.waitSent(2, 2)
	h.eng.waitFor(t, "deactivate and both envelopes dropped", func() bool {
		h.eng.mu.Lock()
		defer h.eng.mu.Unlock()
		return slices.Contains(h.eng.deactivated, telegram.Key(1)) && len(h.eng.outbox) == 0
	})
	var toChat1 int
	for _, c := range h.srv.Calls("sendMessage") {
		if c.ChatID == 1 {
			toChat1++
		}
	}
	if toChat1 != 1 {
		t.Errorf("%d sends to the blocked chat, want 1", toChat1)
	}
	h.eng.mu.Lock()
	if n := len(h.eng.deactivated); n != 1 {
		t.Errorf("Deactivate called %d times, want 1", n)
	}
	h.eng.mu.Unlock()

	// The customer unblocks and writes again: replies flow again.
	h.srv.Clear()
	h.srv.PushText(user(1), "back")
	if diff := cmp.Diff([]string{"one", "two"}, h.waitSent(1, 2)); diff != "" {
		t.Errorf("after unblock (-want +got):\n%s", diff)
	}
}

func TestServerErrorsRetried(t *testing.T) {
	h := newHarness(t, nil)
	h.srv.Inject(telegramtest.Fault{Method: "sendMessage", Times: 2, Code: http.StatusInternalServerError})
	h.srv.Inject(telegramtest.Fault{Method: "sendMessage", Times: 1, Drop: true})
	h.start()
	h.srv.PushText(user(1), "hi")
	if diff := cmp.Diff([]string{"re: hi"}, h.waitSent(1, 1)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := len(h.srv.Calls("sendMessage")); n != 4 {
		t.Errorf("%d sendMessage calls, want 4 (2 × 500, 1 dropped, 1 ok)", n)
	}
	h.eng.waitFor(t, "delivered", func() bool { _, d, u := h.eng.snapshot(); return len(d) == 1 && u == 0 })
}

// TestPersistentFailureLeftPending: a send that keeps failing is retried
// while the channel runs (MaxAttempts times at least) and, at shutdown,
// left in the outbox, not marked delivered; other chats go on meanwhile.
func TestPersistentFailureLeftPending(t *testing.T) {
	h := newHarness(t, func(o *telegram.Options) { o.MaxAttempts = 3 })
	h.srv.Inject(telegramtest.Fault{Method: "sendMessage", ChatID: 1, Code: http.StatusBadGateway})
	h.start()
	h.srv.PushText(user(1), "hi")
	h.waitCalls("sendMessage", 3)
	h.srv.PushText(user(2), "other")
	h.waitSent(2, 1)
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	var toChat1 int
	for _, c := range h.srv.Calls("sendMessage") {
		if c.ChatID == 1 {
			toChat1++
		}
	}
	if toChat1 < 3 {
		t.Errorf("%d sends to chat 1, want 3 or more", toChat1)
	}
	pending, _ := h.eng.Pending(context.Background(), "telegram", 0, 0)
	if len(pending) != 1 || pending[0].Key != telegram.Key(1) {
		t.Errorf("pending after shutdown = %+v, want chat 1's reply", pending)
	}
}

func TestLongTextSplit(t *testing.T) {
	h := newHarness(t, nil)
	var lines []string
	for units := 0; units < 10000; {
		line := fmt.Sprintf("line %04d: 👨‍👩‍👧 שלום order #%d", len(lines), len(lines))
		lines = append(lines, line)
		units += len(utf16.Encode([]rune(line))) + 1
	}
	long := strings.Join(lines, "\n")
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		return []bot.Reply{{Text: long, Buttons: [][]bot.Button{{{Label: "OK", Data: "ok"}}}}}, nil
	}
	h.start()
	h.srv.PushText(user(1), "long please")
	h.eng.waitFor(t, "delivered", func() bool { _, d, _ := h.eng.snapshot(); return len(d) == 1 })
	calls := h.srv.Calls("sendMessage")
	if len(calls) != 3 {
		t.Fatalf("%d parts, want 3", len(calls))
	}
	var parts []string
	for i, c := range calls {
		if !c.OK() {
			t.Errorf("part %d answered %d %s", i, c.Code, c.Description)
		}
		if n := len(utf16.Encode([]rune(c.Text))); n > 4096 {
			t.Errorf("part %d has %d UTF-16 units", i, n)
		}
		if last := i == len(calls)-1; (c.Markup != nil) != last {
			t.Errorf("part %d markup = %+v; want buttons on the last part only", i, c.Markup)
		}
		parts = append(parts, c.Text)
	}
	if got := strings.Join(parts, "\n"); got != long {
		t.Errorf("parts joined by line breaks differ from the text")
	}
}

func TestRenderReply(t *testing.T) {
	h := newHarness(t, nil)
	longData := strings.Repeat("x", 65)
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		if in.Text == "4111 1111 1111 1111" {
			return []bot.Reply{{DeleteID: in.MessageID}, {DeleteID: 9999}, {Text: "card hidden"}}, nil
		}
		return []bot.Reply{{
			Text:    "<b>" + in.Text + "</b> *bold* [x](http://e.com)",
			Buttons: [][]bot.Button{{{Label: "Yes", Data: "flow.state|e:yes"}, {Label: "Bad", Data: longData}}, {{Label: "No", Data: "no"}}},
		}}, nil
	}
	h.start()
	h.srv.PushText(user(1), "hi")
	call := h.waitCalls("sendMessage", 1)[0]
	if call.Text != "<b>hi</b> *bold* [x](http://e.com)" || call.ParseMode != "" {
		t.Errorf("sent %q with parse_mode %q; want the text verbatim, no parse mode", call.Text, call.ParseMode)
	}
	want := &telegramtest.Markup{InlineKeyboard: [][]telegramtest.Button{
		{{Text: "Yes", CallbackData: "flow.state|e:yes"}},
		{{Text: "No", CallbackData: "no"}},
	}}
	if diff := cmp.Diff(want, call.Markup); diff != "" {
		t.Errorf("markup (-want +got):\n%s", diff)
	}

	// DeleteID removes the customer's message; a failed delete is ignored.
	h.srv.PushText(user(1), "4111 1111 1111 1111")
	h.waitSent(1, 2)
	for _, m := range h.srv.Messages(1) {
		if m.Text == "4111 1111 1111 1111" {
			t.Error("the card number is still in the chat")
		}
	}
	if n := len(h.srv.Calls("deleteMessage")); n != 2 {
		t.Errorf("%d deleteMessage calls, want 2", n)
	}
	h.eng.waitFor(t, "all delivered", func() bool { _, _, u := h.eng.snapshot(); return u == 0 })
}

func TestEdits(t *testing.T) {
	h := newHarness(t, nil)
	menu := [][]bot.Button{{{Label: "A", Data: "a"}}}
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		switch in.Data {
		case "same": // re-render the same page: Telegram says not modified
			return []bot.Reply{{Text: "menu", Buttons: menu, EditID: in.MessageID}}, nil
		case "next":
			return []bot.Reply{{Text: "page 2", Buttons: menu, EditID: in.MessageID}}, nil
		case "gone":
			return []bot.Reply{{Text: "fresh", EditID: 9999}}, nil
		case "strip":
			return []bot.Reply{{EditID: in.MessageID}}, nil
		}
		return []bot.Reply{{Text: "menu", Buttons: menu}}, nil
	}
	h.start()
	h.srv.PushText(user(1), "hi")
	h.waitSent(1, 1)
	msg := h.srv.Messages(1)[1].ID // [0] is the customer's

	h.srv.PushCallback(user(1), msg, "same")
	h.eng.waitFor(t, "delivered", func() bool { _, d, _ := h.eng.snapshot(); return len(d) == 2 })
	if c := h.srv.Calls("editMessageText"); len(c) != 1 || c[0].Code != http.StatusBadRequest {
		t.Fatalf("editMessageText calls %+v, want one answered 400 not modified", c)
	}
	h.srv.PushCallback(user(1), msg, "next")
	h.eng.waitFor(t, "delivered", func() bool { _, d, _ := h.eng.snapshot(); return len(d) == 3 })
	h.srv.PushCallback(user(1), msg, "gone")
	h.eng.waitFor(t, "delivered", func() bool { _, d, _ := h.eng.snapshot(); return len(d) == 4 })
	h.srv.PushCallback(user(1), msg, "strip")
	h.eng.waitFor(t, "delivered", func() bool { _, d, _ := h.eng.snapshot(); return len(d) == 5 })

	if diff := cmp.Diff([]string{"page 2", "fresh"}, h.sent(1)); diff != "" {
		t.Errorf("chat (-want +got):\n%s", diff)
	}
	if m := h.srv.Messages(1)[1]; m.Markup != nil && len(m.Markup.InlineKeyboard) > 0 {
		t.Errorf("buttons not removed: %+v", m.Markup)
	}
	for _, rec := range h.logs.records(t) {
		if rec["level"] == "ERROR" || rec["level"] == "WARN" {
			t.Errorf("logged %v", rec)
		}
	}
}

func TestPendingDeliveredOnceAtStart(t *testing.T) {
	h := newHarness(t, nil)
	h.eng.commit(telegram.Key(1), bot.Reply{Text: "old 1"}, bot.Reply{Text: "old 2"})
	h.eng.commit("console:1", bot.Reply{Text: "not ours"})
	h.srv.PushText(user(1), "new")
	h.start()
	if diff := cmp.Diff([]string{"old 1", "old 2", "re: new"}, h.waitSent(1, 3)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	h.eng.waitFor(t, "delivered", func() bool { _, d, _ := h.eng.snapshot(); return len(d) == 3 })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}

	// A restart sends nothing again.
	ch2, err := telegram.New(telegramtest.Token, h.eng, options(h.srv, h.logs))
	if err != nil {
		t.Fatal(err)
	}
	h.ch = ch2
	h.start()
	h.srv.PushText(user(1), "again")
	if diff := cmp.Diff([]string{"old 1", "old 2", "re: new", "re: again"}, h.waitSent(1, 4)); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
	h.eng.waitFor(t, "delivered", func() bool { _, d, _ := h.eng.snapshot(); return len(d) == 4 })
	pending, _ := h.eng.Pending(context.Background(), "telegram", 0, 0)
	if len(pending) != 1 || pending[0].Key != "console:1" {
		t.Errorf("pending = %+v, want only the console envelope", pending)
	}
}

func TestEveryCallbackAnswered(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	failedOnce := false
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		switch in.Data {
		case "fail":
			mu.Lock()
			defer mu.Unlock()
			if !failedOnce {
				failedOnce = true
				return nil, errors.New("store down")
			}
		case "panic":
			panic("flow bug")
		case "stale":
			return nil, nil
		}
		return echo(in)
	}
	h.start()
	var ids []int64
	for i, data := range []string{"ok", "fail", "panic", "stale"} {
		ids = append(ids, h.srv.PushCallback(user(int64(10+i)), 1, data))
	}
	inline, err := h.srv.PushRaw([]byte(`{"update_id":5000,"callback_query":{"id":"inline-1","from":{"id":20,"first_name":"x"},"inline_message_id":"abc","data":"d"}}`))
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, inline)
	if !h.srv.WaitConfirmed(inline, wait) {
		t.Fatal("callbacks not confirmed")
	}
	for _, id := range ids[:4] {
		q := "cb" + strconv.FormatInt(id, 10)
		if !h.srv.WaitFor(wait, func() bool { return h.srv.Answered(q) }) {
			t.Errorf("callback %s not answered", q)
		}
	}
	if !h.srv.WaitFor(wait, func() bool { return h.srv.Answered("inline-1") }) {
		t.Error("inline callback not answered")
	}
}

func TestPanicRecovered(t *testing.T) {
	h := newHarness(t, nil)
	h.secrets = []string{"boom secret"}
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		if in.Text == "boom secret" {
			var m map[string]int
			m["x"]++ // a nil map write: a real panic
		}
		return echo(in)
	}
	h.start()
	id := h.srv.PushText(user(1), "boom secret")
	h.srv.PushText(user(1), "after")
	if diff := cmp.Diff([]string{"notice error.internal", "re: after"}, h.waitSent(1, 2)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !h.srv.WaitConfirmed(id, wait) {
		t.Error("panicking update not confirmed")
	}
	var panics int
	for _, rec := range h.logs.records(t) {
		if rec["msg"] == "panic handling update" {
			panics++
			if rec["chat"] != telegram.Key(1) {
				t.Errorf("panic logged with chat %v", rec["chat"])
			}
		}
	}
	if panics != 1 {
		t.Errorf("panic logged %d times, want 1", panics)
	}
}

// TestGracefulShutdown cancels Run while an update is in Handle: Run waits
// for it, delivers its reply, confirms it, and returns nil.
func TestGracefulShutdown(t *testing.T) {
	h := newHarness(t, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		close(entered)
		<-release
		return echo(in)
	}
	id := h.srv.PushText(user(1), "in flight")
	h.start()
	<-entered
	h.cancel()
	// Run must not return while Handle runs.
	select {
	case err := <-h.done:
		t.Fatalf("Run returned (%v) with an update in flight", err)
	default:
	}
	close(release)
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff([]string{"re: in flight"}, h.sent(1)); diff != "" {
		t.Errorf("reply not flushed (-want +got):\n%s", diff)
	}
	if got := h.srv.Confirmed(); got <= id {
		t.Errorf("confirmed offset %d, want > %d", got, id)
	}
	_, delivered, _ := h.eng.snapshot()
	if len(delivered) != 1 {
		t.Errorf("delivered %v, want the reply", delivered)
	}
}

func TestTypingBeforeReply(t *testing.T) {
	h := newHarness(t, func(o *telegram.Options) { o.TypingDelay = -1 })
	h.start()
	h.srv.PushText(user(1), "hi")
	h.waitSent(1, 1)
	var order []string
	for _, c := range h.srv.Calls("") {
		if c.Method == "sendChatAction" || c.Method == "sendMessage" {
			order = append(order, c.Method+" "+c.Fields["action"])
		}
	}
	if diff := cmp.Diff([]string{"sendChatAction typing", "sendMessage "}, order); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSetCommands(t *testing.T) {
	h := newHarness(t, nil)
	h.eng.commands = map[string][]bot.Command{
		"":   {{Name: "start", Description: "Start"}, {Name: "help", Description: "Help"}},
		"en": {{Name: "start", Description: "Start"}, {Name: "help", Description: "Help"}},
		"he": {{Name: "start", Description: "התחלה"}, {Name: "help", Description: "עזרה"}},
	}
	if err := h.ch.SetCommands(context.Background()); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][]telegramtest.Command{
		"":   {{Command: "start", Description: "Start"}, {Command: "help", Description: "Help"}},
		"en": {{Command: "start", Description: "Start"}, {Command: "help", Description: "Help"}},
		"he": {{Command: "start", Description: "התחלה"}, {Command: "help", Description: "עזרה"}},
	} {
		if diff := cmp.Diff(want, h.srv.Commands(lang)); diff != "" {
			t.Errorf("commands %q (-want +got):\n%s", lang, diff)
		}
	}

	h.eng.commands["he"] = []bot.Command{{Name: "Bad-Name", Description: "x"}}
	if err := h.ch.SetCommands(context.Background()); err == nil {
		t.Error("invalid command name accepted")
	}
}

func TestRejectedTokenStopsRun(t *testing.T) {
	srv := telegramtest.NewServer(t)
	logs := &logBuffer{}
	ch, err := telegram.New("999:wrong", newEngine(), options(srv, logs))
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Run(context.Background()); err == nil {
		t.Fatal("Run accepted a rejected token")
	} else if strings.Contains(err.Error(), "999:wrong") {
		t.Errorf("error shows the token: %v", err)
	}
}

func TestWebhookListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := newHarness(t, func(o *telegram.Options) {
		o.Webhook = telegram.Webhook{Listen: addr, Secret: "abc", Path: "/telegram"}
	})
	h.start()
	h.logs.waitFor(t, "webhook listening")
	body := `{"update_id":7,"message":{"message_id":3,"date":1700000000,"chat":{"id":9,"type":"private"},"from":{"id":9,"is_bot":false,"first_name":"Ana"},"text":"hi"}}`
	for secret, want := range map[string]int{"": http.StatusUnauthorized, "abc": http.StatusOK} {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/telegram", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("secret %q: status %d, want %d", secret, resp.StatusCode, want)
		}
	}
	h.waitSent(9, 1)
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestDeliver(t *testing.T) {
	h := newHarness(t, nil)
	h.start()
	h.srv.PushText(user(1), "hi")
	h.waitSent(1, 1)
	// A staff reply committed outside an update (Engine.Notify).
	envs := h.eng.commit(telegram.Key(1), bot.Reply{Text: "staff: your order shipped"})
	envs = append(envs, h.eng.commit("console:1", bot.Reply{Text: "not ours"})...)
	h.ch.Deliver(envs...)
	if diff := cmp.Diff([]string{"re: hi", "staff: your order shipped"}, h.waitSent(1, 2)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	h.eng.waitFor(t, "delivered", func() bool { _, d, _ := h.eng.snapshot(); return len(d) == 2 })
}

func TestPollErrorsRetried(t *testing.T) {
	h := newHarness(t, nil)
	h.srv.Inject(telegramtest.Fault{Method: "getUpdates", Times: 2, Code: http.StatusInternalServerError})
	id := h.srv.PushText(user(1), "hi")
	h.start()
	h.waitSent(1, 1)
	if !h.srv.WaitConfirmed(id, wait) {
		t.Error("update not confirmed")
	}
	if n := len(h.srv.Calls("getUpdates")); n < 3 {
		t.Errorf("%d getUpdates calls, want ≥ 3", n)
	}
}

func TestDefaultLang(t *testing.T) {
	h := newHarness(t, func(o *telegram.Options) { o.DefaultLang = "he" })
	h.srv.PushText(telegramtest.User{ID: 1}, "no language_code")
	h.srv.PushText(telegramtest.User{ID: 1, LanguageCode: "en"}, "english client")
	h.start()
	h.waitSent(1, 2)
	var got []string
	for _, in := range h.eng.inboundsFor(telegram.Key(1)) {
		got = append(got, in.LangHint)
	}
	if diff := cmp.Diff([]string{"he", "en"}, got); diff != "" {
		t.Errorf("LangHint (-want +got):\n%s", diff)
	}
}
