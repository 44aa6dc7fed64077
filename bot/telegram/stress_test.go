package telegram_test

// Tests of the channel under stress: a long 429 flood, a Bot API outage,
// and a large outbox left by an earlier run. The first two run in a
// testing/synctest bubble: its fake clock jumps to the next timer as soon
// as every goroutine of the bubble waits, so the pauses and backoffs of
// minutes take milliseconds, and a call's time says exactly when the
// channel made it. The fake Bot API runs outside the bubble; the channel's
// HTTP client keeps no idle connections, whose reads would keep the bubble
// from ever waiting.

import (
	"context"
	"net/http"
	"path"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot"
	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
)

// clockedCall is one Bot API call as the channel made it.
type clockedCall struct {
	method string
	at     time.Time // on the bubble's clock, when the call was made
	code   int       // the HTTP status answered, 0 if none
}

// callClock is an http.RoundTripper that records every call with the
// bubble's time.
type callClock struct {
	next  http.RoundTripper
	mu    sync.Mutex
	calls []clockedCall
}

func newCallClock() *callClock {
	return &callClock{next: &http.Transport{DisableKeepAlives: true}}
}

func (c *callClock) RoundTrip(r *http.Request) (*http.Response, error) {
	at := time.Now()
	resp, err := c.next.RoundTrip(r)
	code := 0
	if err == nil {
		code = resp.StatusCode
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, clockedCall{method: path.Base(r.URL.Path), at: at, code: code})
	return resp, err
}

func (c *callClock) sends() []clockedCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(c.calls), func(cc clockedCall) bool { return cc.method == "getMe" })
}

// runInBubble builds a Channel on eng and srv with the production limits
// (edit may change them), in webhook mode without a listener so nothing
// polls, runs it, and returns a func that stops it. Call it inside the
// bubble.
func runInBubble(t *testing.T, srv *telegramtest.Server, eng *fakeEngine, calls *callClock, edit func(*telegram.Options)) (*telegram.Channel, func()) {
	t.Helper()
	opt := telegram.Options{
		APIURL:     srv.URL,
		HTTPClient: &http.Client{Transport: calls},
		Webhook:    telegram.Webhook{Secret: "bubble"},
	}
	if edit != nil {
		edit(&opt)
	}
	ch, err := telegram.New(telegramtest.Token, eng, opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ch.Run(ctx) }()
	return ch, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// await waits until cond holds, re-checked after every engine change. In a
// bubble it needs no deadline: if nothing can change any more, synctest
// reports the deadlock.
func (e *fakeEngine) await(cond func() bool) {
	for {
		e.mu.Lock()
		ch := e.changed
		e.mu.Unlock()
		if cond() {
			return
		}
		<-ch
	}
}

func (e *fakeEngine) undelivered() int {
	_, _, n := e.snapshot()
	return n
}

// TestRateLimitFloodHonouredByEveryChat has the Bot API answer every
// sendMessage with 429 and retry_after=3 for 20 s while 20 chats have
// replies queued. No call may be made while a pause is on — after a 429
// and before its retry_after has passed — by any chat; each pause ends
// with one probing call, so the flood draws one 429 per pause after the
// first answers (the calls already in flight together then).
func TestRateLimitFloodHonouredByEveryChat(t *testing.T) {
	const (
		chats      = 20
		retryAfter = 3 * time.Second
		flood      = 20 * time.Second
	)
	srv := telegramtest.NewServer(t)
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine()
		for i := range chats {
			eng.commit(telegram.Key(int64(i+1)), bot.Reply{Text: "1"}, bot.Reply{Text: "2"}, bot.Reply{Text: "3"})
		}
		srv.Inject(telegramtest.Fault{Method: "sendMessage", Code: http.StatusTooManyRequests, RetryAfter: int(retryAfter / time.Second)})
		time.AfterFunc(flood, srv.Clear)
		calls := newCallClock()
		_, stop := runInBubble(t, srv, eng, calls, nil)
		eng.await(func() bool { return eng.undelivered() == 0 })
		stop()

		sends := calls.sends()
		var early, limited int
		var firstLimited time.Time
		for _, c := range sends {
			if c.code != http.StatusTooManyRequests {
				continue
			}
			if firstLimited.IsZero() {
				firstLimited = c.at
			}
			if c.at.After(firstLimited) {
				limited++
			}
		}
		for _, c := range sends {
			for _, l := range sends {
				if l.code == http.StatusTooManyRequests && c.at.After(l.at) && c.at.Before(l.at.Add(retryAfter)) {
					t.Errorf("%s at +%v, %v after a 429 with retry_after %v", c.method, c.at.Sub(firstLimited), c.at.Sub(l.at), retryAfter)
					early++
					break
				}
			}
		}
		if early > 0 {
			t.Errorf("%d calls made during a 429 pause, want 0", early)
		}
		if pauses := int(flood / retryAfter); limited > pauses {
			t.Errorf("%d calls answered 429 after the first ones, want at most %d (one per pause)", limited, pauses)
		}
		for i := range chats {
			if diff := cmp.Diff([]string{"1", "2", "3"}, botTexts(srv, int64(i+1))); diff != "" {
				t.Errorf("chat %d (-want +got):\n%s", i+1, diff)
			}
		}
	})
}

// TestOutageRetriedWithinOneBackoff has the Bot API answer every
// sendMessage with 500 for 100 s while a chat has a reply queued, and a
// new reply for it comes during the outage. The send is retried all along,
// never more than MaxBackoff apart, so both replies go out, in order,
// within one backoff after the recovery — not after a fixed stall.
func TestOutageRetriedWithinOneBackoff(t *testing.T) {
	const (
		outage     = 100 * time.Second
		maxBackoff = 10 * time.Second
	)
	srv := telegramtest.NewServer(t)
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine()
		eng.commit(telegram.Key(1), bot.Reply{Text: "before"})
		srv.Inject(telegramtest.Fault{Method: "sendMessage", Code: http.StatusInternalServerError})
		recovered := time.Now().Add(outage)
		time.AfterFunc(outage, srv.Clear)
		calls := newCallClock()
		ch, stop := runInBubble(t, srv, eng, calls, func(o *telegram.Options) { o.MaxBackoff = maxBackoff })
		time.AfterFunc(outage/2, func() { ch.Deliver(eng.commit(telegram.Key(1), bot.Reply{Text: "during"})...) })
		eng.await(func() bool { return eng.undelivered() == 0 })
		stop()

		sends := calls.sends()
		for i := 1; i < len(sends); i++ {
			if gap := sends[i].at.Sub(sends[i-1].at); gap > maxBackoff {
				t.Errorf("no call for %v from +%v, want retries at most %v apart", gap, sends[i-1].at.Sub(recovered.Add(-outage)), maxBackoff)
			}
		}
		var ok []time.Time
		for _, c := range sends {
			if c.code == http.StatusOK {
				ok = append(ok, c.at)
			}
		}
		if len(ok) != 2 {
			t.Fatalf("%d successful sends, want 2", len(ok))
		}
		for i, at := range ok {
			if late := at.Sub(recovered); late > maxBackoff {
				t.Errorf("send %d went out %v after the recovery, want within one backoff (%v)", i+1, late, maxBackoff)
			}
		}
		if diff := cmp.Diff([]string{"before", "during"}, botTexts(srv, 1)); diff != "" {
			t.Errorf("chat 1 (-want +got):\n%s", diff)
		}
	})
}

// TestAllPendingDeliveredAtStart leaves more replies in the outbox than
// one read takes (10,000, of another channel), then Telegram replies of two
// chats; a staff reply comes (Deliver) while Run reads them, and an update
// is waiting. Every Telegram reply goes out once, each chat's in the order
// committed.
func TestAllPendingDeliveredAtStart(t *testing.T) {
	h := newHarness(t, nil)
	for range 10_000 {
		h.eng.commit("console:1", bot.Reply{Text: "not ours"})
	}
	h.eng.commit(telegram.Key(1), bot.Reply{Text: "old 1"}, bot.Reply{Text: "old 2"})
	h.eng.commit(telegram.Key(2), bot.Reply{Text: "old A"})
	h.eng.onPending = func(after uint64) {
		if after == 0 { // while the first page is read
			h.ch.Deliver(h.eng.commit(telegram.Key(1), bot.Reply{Text: "staff"})...)
		}
	}
	h.srv.PushText(user(1), "new")
	h.start()
	if diff := cmp.Diff([]string{"old 1", "old 2", "staff", "re: new"}, h.waitSent(1, 4)); diff != "" {
		t.Errorf("chat 1 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"old A"}, h.waitSent(2, 1)); diff != "" {
		t.Errorf("chat 2 (-want +got):\n%s", diff)
	}
	h.eng.waitFor(t, "Telegram replies delivered", func() bool { return h.eng.undelivered() == 10_000 })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(h.srv.Calls("sendMessage")); n != 5 {
		t.Errorf("%d sendMessage calls, want 5", n)
	}
}

// TestPendingReadInPages reads the outbox 4 envelopes at a time: 5 chats'
// replies, committed interleaved, each go out once and in order, with a
// staff reply delivered during the reads (and one delivered twice) after
// the chat's earlier ones.
func TestPendingReadInPages(t *testing.T) {
	h := newHarness(t, nil)
	telegram.SetPendingPage(h.ch, 4)
	const chats, each = 5, 6
	want := map[int64][]string{}
	var first []bot.Envelope
	for i := range each {
		for c := range int64(chats) {
			text := "chat " + strconv.FormatInt(c+1, 10) + " #" + strconv.Itoa(i+1)
			envs := h.eng.commit(telegram.Key(c+1), bot.Reply{Text: text})
			first = append(first, envs...)
			want[c+1] = append(want[c+1], text)
		}
	}
	h.eng.onPending = func(after uint64) {
		if after == 8 { // the third page
			h.ch.Deliver(h.eng.commit(telegram.Key(3), bot.Reply{Text: "staff"})...)
			h.ch.Deliver(first[0]) // on the first page: queued already, maybe sent
		}
	}
	want[3] = append(want[3], "staff")
	h.start()
	for c := range int64(chats) {
		if diff := cmp.Diff(want[c+1], h.waitSent(c+1, len(want[c+1]))); diff != "" {
			t.Errorf("chat %d (-want +got):\n%s", c+1, diff)
		}
	}
	h.eng.waitFor(t, "all delivered", func() bool { return h.eng.undelivered() == 0 })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n, want := len(h.srv.Calls("sendMessage")), chats*each+1; n != want {
		t.Errorf("%d sendMessage calls, want %d", n, want)
	}
	h.eng.mu.Lock()
	defer h.eng.mu.Unlock()
	if want := (chats*each+1)/4 + 1; h.eng.pendingCalls != want {
		t.Errorf("%d reads of the pending replies, want %d", h.eng.pendingCalls, want)
	}
}

// botTexts returns the texts of the bot's messages in chat.
func botTexts(srv *telegramtest.Server, chat int64) []string {
	var out []string
	for _, m := range srv.Messages(chat) {
		if m.FromBot {
			out = append(out, m.Text)
		}
	}
	return out
}
