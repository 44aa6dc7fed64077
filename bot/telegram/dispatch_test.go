package telegram_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"supportbot/bot"
	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
)

// textUpdate is a private chat's text message as Telegram posts it.
func textUpdate(id int, chat int64, text string) []byte {
	return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"date":1700000000,"chat":{"id":%d,"type":"private","first_name":"Dana"},"from":{"id":%d,"is_bot":false,"first_name":"Dana","language_code":"en"},"text":%q}}`,
		id, id, chat, chat, text)
}

// TestHungBackendCallStallsOnlyItsChat: 8 chats' updates hang in the
// engine (a portal call that does not answer) until released. The /help
// of 40 other chats must all be answered (committed, webhook 200) while
// those 8 still hang; before, chats shared 8 fixed workers, and those
// hashed onto a hung one waited for it. A further update of a hung chat
// beyond MaxQueuedPerChat is answered 503 (Telegram sends it again).
func TestHungBackendCallStallsOnlyItsChat(t *testing.T) {
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
		ch, stop := runInBubble(t, srv, eng, newCallClock(), func(o *telegram.Options) { o.MaxQueuedPerChat = 2 })
		synctest.Wait() // Run is up: getMe answered, pending replies loaded
		h := ch.Handler()
		post := func(id int, chat int64, text string) int {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, telegramtest.WebhookRequest("/", "bubble", textUpdate(id, chat, text)))
			return w.Code
		}
		var mu sync.Mutex
		codes := map[string]int{}
		var wg sync.WaitGroup
		postAsync := func(id int, chat int64, text string) {
			wg.Go(func() {
				code := post(id, chat, text)
				mu.Lock()
				codes[fmt.Sprintf("%d %s", chat, text)] = code
				mu.Unlock()
			})
		}
		for i := range hung {
			postAsync(i+1, int64(1000+i), "portal")
		}
		synctest.Wait() // every hung call is in the engine
		// The hung chats' next update queues behind its call (per-chat
		// order); one more is over MaxQueuedPerChat.
		postAsync(100, 1000, "after portal")
		synctest.Wait()
		if code := post(101, 1000, "one too many"); code != http.StatusServiceUnavailable {
			t.Errorf("update beyond MaxQueuedPerChat: status %d, want 503", code)
		}
		for i := range others {
			postAsync(200+i, int64(2000+i), "/help")
		}
		synctest.Wait() // all that can run has run
		mu.Lock()
		var answered int
		for k, code := range codes {
			if strings.HasSuffix(k, " /help") && code == http.StatusOK {
				answered++
			}
			if !strings.HasSuffix(k, " /help") {
				t.Errorf("%q answered %d while its portal call hangs", k, code)
			}
		}
		mu.Unlock()
		if answered != others {
			t.Errorf("%d of %d unrelated chats answered while %d chats' portal calls hang, want all", answered, others, hung)
		}
		close(release)
		wg.Wait()
		for k, code := range codes {
			if code != http.StatusOK {
				t.Errorf("%q: status %d after release, want 200", k, code)
			}
		}
		if got := eng.inboundsFor(telegram.Key(1000)); len(got) != 2 || got[0].Text != "portal" || got[1].Text != "after portal" {
			t.Errorf("chat 1000 handled %+v, want portal then after portal", got)
		}
		eng.await(func() bool { return eng.undelivered() == 0 })
		stop()
	})
}

// TestCallbackAnsweredOnArrival: a button press is answered (its spinner
// stopped) when the update arrives, while its handling still waits on a
// slow backend call — not once the handling is over.
func TestCallbackAnsweredOnArrival(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, nil)
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		if in.Data == "slow" {
			<-release
		}
		return echo(in)
	}
	h.start()
	defer close(release)
	id := h.srv.PushCallback(user(7), 1, "slow")
	qid := "cb" + strconv.FormatInt(id, 10)
	h.eng.waitFor(t, "the press in the engine", func() bool { return len(h.eng.inboundsFor(telegram.Key(7))) == 1 })
	if !h.srv.WaitFor(wait, func() bool { return h.srv.Answered(qid) }) {
		t.Errorf("callback query not answered while its update is handled")
	}
}

// TestWorkersReused: updates of different chats that come one after the
// other run on one worker goroutine, which waits idle for the next chat,
// instead of a new goroutine (and a new stack to grow) per update.
func TestWorkersReused(t *testing.T) {
	srv := telegramtest.NewServer(t)
	synctest.Test(t, func(t *testing.T) {
		ch, stop := runInBubble(t, srv, newEngine(), newCallClock(), nil)
		defer stop()
		synctest.Wait()
		h := ch.Handler()
		for i := range 20 {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, telegramtest.WebhookRequest("/", "bubble", textUpdate(i+1, int64(3000+i), "/help")))
			if w.Code != http.StatusOK {
				t.Fatalf("update %d: status %d, want 200", i+1, w.Code)
			}
			synctest.Wait() // the worker is idle again
		}
		if n := telegram.WorkersStarted(ch); n != 1 {
			t.Errorf("%d workers started for 20 chats one after the other, want 1", n)
		}
	})
}
