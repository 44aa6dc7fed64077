package telegram_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"supportbot/bot"
	"supportbot/bot/telegram"

	"supportbot/bot/telegram/telegramtest"
)

// TestPollConflictDeletesWebhookOnce: polling deletes a webhook once, at
// start, and says so; a 409 from getUpdates later (another instance
// polling) is waited out, not answered by deleting a webhook again.
func TestPollConflictDeletesWebhookOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.srv.Inject(telegramtest.Fault{Method: "getUpdates", Times: 3, Code: http.StatusConflict})
	id := h.srv.PushText(user(1), "hi")
	h.start()
	h.waitSent(1, 1)
	if !h.srv.WaitConfirmed(id, wait) {
		t.Fatal("update not confirmed")
	}
	if n := len(h.srv.Calls("getUpdates")); n < 4 {
		t.Errorf("%d getUpdates calls, want ≥ 4 (3 conflicts, then the update)", n)
	}
	if n := len(h.srv.Calls("deleteWebhook")); n != 1 {
		t.Errorf("%d deleteWebhook calls, want 1 (at start only)", n)
	}
	h.logs.waitFor(t, "long polling: webhook deleted, once at start")
}

// bubbleUpdates serves getUpdates inside a synctest bubble (the fake Bot
// API runs outside it, where a long poll would keep the bubble from ever
// waiting) and passes every other call on. It confirms like Telegram: an
// offset confirms every update below it.
type bubbleUpdates struct {
	next http.RoundTripper

	mu        sync.Mutex
	changed   chan struct{}
	ups       [][]byte // raw updates, in id order
	ids       []int64
	confirmed int64   // highest offset asked for
	offsets   []int64 // every offset asked for, in order
}

func newBubbleUpdates(next http.RoundTripper) *bubbleUpdates {
	return &bubbleUpdates{next: next, changed: make(chan struct{})}
}

func (b *bubbleUpdates) push(id int, chat int64, text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ups = append(b.ups, textUpdate(id, chat, text))
	b.ids = append(b.ids, int64(id))
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *bubbleUpdates) state() (confirmed int64, offsets []int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.confirmed, slices.Clone(b.offsets)
}

func (b *bubbleUpdates) RoundTrip(r *http.Request) (*http.Response, error) {
	if path.Base(r.URL.Path) != "getUpdates" {
		return b.next.RoundTrip(r)
	}
	var q struct {
		Offset  int64 `json:"offset"`
		Limit   int   `json:"limit"`
		Timeout int   `json:"timeout"`
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		return nil, err
	}
	deadline := time.After(time.Duration(q.Timeout) * time.Second)
	for {
		b.mu.Lock()
		b.offsets = append(b.offsets, q.Offset)
		b.confirmed = max(b.confirmed, q.Offset)
		var result [][]byte
		for i, id := range b.ids {
			if id >= q.Offset && len(result) < q.Limit {
				result = append(result, b.ups[i])
			}
		}
		changed := b.changed
		b.mu.Unlock()
		if len(result) > 0 || q.Timeout == 0 {
			body := append([]byte(`{"ok":true,"result":[`), bytes.Join(result, []byte(","))...)
			body = append(body, "]}"...)
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		}
		select {
		case <-changed:
		case <-deadline:
			q.Timeout = 0
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
}

// TestPollingHungCallStallsOnlyItsChat is TestHungBackendCallStallsOnlyItsChat
// in polling mode: 8 chats' updates hang in the engine until released;
// polling goes on fetching meanwhile, and the /help of 40 other chats is
// answered. The confirmed offset never passes an update in flight, no
// update is handed to the engine twice, a hung chat's updates keep their
// order (one beyond MaxQueuedPerChat is left unconfirmed and fetched again
// later), and after the release everything is confirmed.
func TestPollingHungCallStallsOnlyItsChat(t *testing.T) {
	const hung, others = 8, 40
	srv := telegramtest.NewServer(t)
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		eng := newEngine()
		eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
			if in.Text == "portal" {
				<-release
			}
			return echo(in)
		}
		ups := newBubbleUpdates(newCallClock())
		// One quick update first: the offset moves past it, then stops at
		// the first hung one.
		ups.push(1, 3000, "/help")
		firstHung := int64(2)
		for i := range hung {
			ups.push(2+i, int64(1000+i), "portal")
		}
		_, stop := runInBubble(t, srv, eng, nil, func(o *telegram.Options) {
			o.Webhook = telegram.Webhook{}
			o.HTTPClient = &http.Client{Transport: ups}
			o.MaxQueuedPerChat = 2
		})
		time.Sleep(5 * time.Second)
		synctest.Wait() // every hung call is in the engine
		// The hung chat's next update queues behind its call; one more is
		// over MaxQueuedPerChat and waits unconfirmed.
		ups.push(100, 1000, "after portal")
		ups.push(101, 1000, "one too many")
		for i := range others {
			ups.push(200+i, int64(2000+i), "/help")
		}
		time.Sleep(5 * time.Second)
		synctest.Wait() // all that can run has run

		for i := range others {
			if got := eng.inboundsFor(telegram.Key(int64(2000 + i))); len(got) != 1 {
				t.Errorf("chat %d handled %d times while %d chats' portal calls hang, want once", 2000+i, len(got), hung)
			}
		}
		if got := eng.inboundsFor(telegram.Key(1000)); len(got) != 1 {
			t.Errorf("hung chat 1000 handled %+v while its portal call hangs, want the portal update only", got)
		}
		confirmed, offsets := ups.state()
		if confirmed != firstHung {
			t.Errorf("confirmed offset %d while update %d is in flight, want %d", confirmed, firstHung, firstHung)
		}
		if n := len(offsets); n < 3 {
			t.Errorf("%d getUpdates calls while calls hang, want polling to go on", n)
		}

		close(release)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if confirmed, _ := ups.state(); confirmed != 200+others {
			t.Errorf("confirmed offset %d after the release, want %d (all)", confirmed, 200+others)
		}
		got := eng.inboundsFor(telegram.Key(1000))
		var texts []string
		for _, in := range got {
			texts = append(texts, in.Text)
		}
		if want := []string{"portal", "after portal", "one too many"}; !slices.Equal(texts, want) {
			t.Errorf("chat 1000 handled %q, want %q", texts, want)
		}
		for i := 1; i < hung; i++ {
			if got := eng.inboundsFor(telegram.Key(int64(1000 + i))); len(got) != 1 {
				t.Errorf("chat %d handled %d times, want once", 1000+i, len(got))
			}
		}
		eng.await(func() bool { return eng.undelivered() == 0 })
		stop()
		for _, off := range offsets {
			if off > firstHung {
				t.Errorf("offset %d asked for while update %d was in flight", off, firstHung)
			}
		}
	})
}
