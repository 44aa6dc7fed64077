package telegram_test

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot"
	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
)

// screenReply is a screen to act on: text with buttons.
func screenReply(text string) bot.Reply {
	return bot.Reply{Text: text, Buttons: [][]bot.Button{{{Label: "Menu", Data: "menu|"}}}}
}

// TestQueuedScreensSuperseded: of a chat's screens queued and not yet
// sent, only the newest goes out; the older ones (and an edit with
// buttons queued before it) are marked delivered unsent and counted. What
// carries information — a reply without buttons, a deletion — still goes,
// in order. Pending replies left by an earlier run are pruned alike.
func TestQueuedScreensSuperseded(t *testing.T) {
	srv := telegramtest.NewServer(t)
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine()
		backlog := eng.commit(telegram.Key(1),
			screenReply("menu A"),
			bot.Reply{Text: "result"},
			screenReply("menu B"),
			bot.Reply{DeleteID: 77},
			bot.Reply{Text: "edited", EditID: 3, Buttons: screenReply("").Buttons},
			screenReply("menu C"),
		)
		rec := newSendRecorder()
		ch, stop := runInBubble(t, srv, eng, newCallClock(), func(o *telegram.Options) { o.Observer = rec })
		// A chat whose replies come in one commit while Run is up.
		// A journey's result and a note on top of a screen are kept even
		// with buttons (Reply.Keep).
		keptResult := screenReply("saved: forwarded")
		keptResult.Keep = true
		ch.Deliver(eng.commit(telegram.Key(2), screenReply("list 1"), keptResult, screenReply("list 2"), bot.Reply{Text: "saved"}, screenReply("list 3"))...)
		eng.await(func() bool { return eng.undelivered() == 0 })
		stop()

		if diff := cmp.Diff([]string{"result", "menu C"}, botTexts(srv, 1)); diff != "" {
			t.Errorf("chat 1 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"saved: forwarded", "saved", "list 3"}, botTexts(srv, 2)); diff != "" {
			t.Errorf("chat 2 (-want +got):\n%s", diff)
		}
		if dels := srv.Calls("deleteMessage"); len(dels) != 1 || dels[0].MessageID != 77 {
			t.Errorf("deleteMessage calls %+v, want one for message 77", dels)
		}
		if edits := srv.Calls("editMessageText"); len(edits) != 0 {
			t.Errorf("superseded edit sent: %+v", edits)
		}
		_, delivered, _ := eng.snapshot()
		for _, e := range []bot.Envelope{backlog[0], backlog[2], backlog[4]} {
			if !slices.Contains(delivered, e.ID) {
				t.Errorf("superseded %q not marked delivered (it would be sent after a restart)", e.Reply.Text)
			}
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if rec.superseded != 5 {
			t.Errorf("Observer.Superseded called %d times, want 5", rec.superseded)
		}
	})
}

// TestFairAcrossChats: under the global limit, a chat with many replies
// queued does not hold back the others: every other chat's first reply
// goes out before the busy chat's fifth (the chats take turns).
func TestFairAcrossChats(t *testing.T) {
	srv := telegramtest.NewServer(t)
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine()
		var busy []bot.Reply
		for _, s := range []string{"1", "2", "3", "4", "5", "6", "7", "8"} {
			busy = append(busy, bot.Reply{Text: "busy " + s})
		}
		eng.commit(telegram.Key(1), busy...)
		for chat := int64(2); chat <= 5; chat++ {
			eng.commit(telegram.Key(chat), bot.Reply{Text: "first"})
		}
		_, stop := runInBubble(t, srv, eng, newCallClock(), func(o *telegram.Options) {
			o.GlobalPerSecond = 1
			o.PerChatInterval, o.PerChatBurst = 1, 1<<20 // no per-chat limit
		})
		eng.await(func() bool { return eng.undelivered() == 0 })
		stop()
		var order []int64
		for _, c := range srv.Calls("sendMessage") {
			order = append(order, c.ChatID)
		}
		fifth, n := -1, 0
		for i, chat := range order {
			if chat == 1 {
				if n++; n == 5 {
					fifth = i
				}
			}
		}
		for chat := int64(2); chat <= 5; chat++ {
			if i := slices.Index(order, chat); i < 0 || i > fifth {
				t.Errorf("chat %d's first reply sent at %d, after chat 1's fifth (at %d); order %v", chat, i, fifth, order)
			}
		}
	})
}

// TestScreenOvertakenWhileWaiting: a screen already at the head of its
// chat's queue, waiting for its send slot (here the per-chat limit), is not
// sent when a newer screen for the chat arrives meanwhile: the newer one
// takes its slot, and the old one is marked delivered and counted as
// superseded. Under load a slot can take seconds, and a customer who acted
// meanwhile needs only the newest screen.
func TestScreenOvertakenWhileWaiting(t *testing.T) {
	srv := telegramtest.NewServer(t)
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine()
		first := eng.commit(telegram.Key(1), bot.Reply{Text: "result"}, screenReply("menu A"))
		rec := newSendRecorder()
		ch, stop := runInBubble(t, srv, eng, newCallClock(), func(o *telegram.Options) {
			o.Observer = rec
			o.PerChatInterval, o.PerChatBurst = time.Second, 1
		})
		time.Sleep(500 * time.Millisecond) // "menu A" waits for its slot
		ch.Deliver(eng.commit(telegram.Key(1), screenReply("menu B"))...)
		eng.await(func() bool { return eng.undelivered() == 0 })
		stop()

		if diff := cmp.Diff([]string{"result", "menu B"}, botTexts(srv, 1)); diff != "" {
			t.Errorf("chat 1 (-want +got):\n%s", diff)
		}
		_, delivered, _ := eng.snapshot()
		if !slices.Contains(delivered, first[1].ID) {
			t.Error(`overtaken "menu A" not marked delivered (it would be sent after a restart)`)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if rec.superseded != 1 {
			t.Errorf("Observer.Superseded called %d times, want 1", rec.superseded)
		}
	})
}
