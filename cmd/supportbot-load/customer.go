package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxRetries is how often an impatient customer sends a step again.
const maxRetries = 2

// customer is one simulated customer in a private chat.
type customer struct {
	chat  int64
	lang  string
	order string
	email string
	errs  *errorLog
	tl    *timeline
	// msgIDs numbers the chat's messages, the customer's and the bot's.
	msgIDs atomic.Int64
	// queries numbers the customer's button presses (callback queries).
	queries int64
	// inbox receives the bot's messages from the fake Bot API.
	inbox chan botMessage

	// With --rush: think is the mean think time, patience how long an
	// impatient customer waits before sending again (0 = never).
	think    time.Duration
	patience time.Duration
	rng      *rand.Rand
	posts    sync.WaitGroup // posts in flight (--rush)

	// Owned by the customer's goroutine.
	conversations int64
	abandoned     int64
	updates       int64 // updates posted, retries included
	retries       int64
	latencies     []time.Duration
	splits        []split
}

// split is where the time of a step answered at the first attempt went.
type split struct {
	transit  time.Duration // posted → the webhook handler has the request
	queue    time.Duration // → the engine's Handle starts
	handling time.Duration // → Handle returns: replies committed
	delivery time.Duration // → the expected reply reaches the Bot API
}

// seededOrders are guest orders of the demo portal with one shipment each.
var seededOrders = [][2]string{
	{"SB-104233", "dana.levi@example.com"},
	{"SB-104251", "michael.cohen@example.com"},
	{"SB-104245", "yossi.mizrahi@example.com"},
	{"SB-104188", "sarah.johnson@example.com"},
}

// newCustomer returns customer i (1-based); the first generated ones track
// their own generated order, the others a seeded one.
func newCustomer(i, generated int, errs *errorLog, tl *timeline) *customer {
	u := &customer{chat: 5_000_000 + int64(i), lang: "en", errs: errs, tl: tl, inbox: make(chan botMessage, 256)}
	if i%2 == 0 {
		u.lang = "he"
	}
	if i <= generated {
		u.order, u.email = fmt.Sprintf("SB-8%05d", i), fmt.Sprintf("user%d@demo.example", i)
	} else {
		o := seededOrders[i%len(seededOrders)]
		u.order, u.email = o[0], o[1]
	}
	return u
}

// rush makes the customer think between steps and, if patience > 0, send
// a step again when no reply comes within patience.
func (u *customer) rush(think, patience time.Duration) {
	u.think, u.patience = think, patience
	u.rng = rand.New(rand.NewPCG(uint64(u.chat), 1))
}

// run holds conversations until deadline.
func (u *customer) run(ctx context.Context, p *webhookPoster, deadline time.Time, timeout time.Duration) {
	defer u.posts.Wait()
	if u.rng != nil && !u.pause(ctx, time.Duration(u.rng.Int64N(int64(u.think)+1)), deadline) {
		return // customers arrive spread over the first think time
	}
	for n := 0; ctx.Err() == nil && time.Now().Before(deadline); n++ {
		// With --rush the customer reads the last reply before starting
		// over, as between steps.
		if n > 0 && u.rng != nil && !u.pause(ctx, u.thinkTime(), deadline) {
			return
		}
		err := u.conversation(ctx, p, deadline, timeout)
		switch {
		case err == nil:
			u.conversations++
		case errors.Is(err, errDeadline) || ctx.Err() != nil:
			// Not at once into another conversation: a run ending
			// mid-conversation would have every customer send /menu
			// back to back until the deadline.
			return
		case errors.Is(err, errGaveUp):
			u.abandoned++
		default:
			u.errs.add("chat %d: %v", u.chat, err)
		}
	}
}

var (
	// errDeadline ends a conversation cut short by the end of the run.
	errDeadline = errors.New("run over")
	// errGaveUp ends a conversation of --rush whose reply never came.
	errGaveUp = errors.New("gave up waiting")
)

// conversation tracks the customer's order as a guest, step by step.
func (u *customer) conversation(ctx context.Context, p *webhookPoster, deadline time.Time, timeout time.Duration) error {
	has := func(data string) func(botMessage) bool {
		return func(m botMessage) bool { return m.has(data) }
	}
	steps := []struct {
		name string
		send func(prev botMessage) tgUpdate
		want func(botMessage) bool
	}{
		{"/menu", func(botMessage) tgUpdate { return u.text("/menu") }, has("menu|track")},
		{"press Track", func(prev botMessage) tgUpdate { return u.press(prev.id, "menu|track") }, has("track.start|e:guest")},
		{"press guest", func(prev botMessage) tgUpdate { return u.press(prev.id, "track.start|e:guest") }, has("cmd|cancel")},
		{"order number", func(botMessage) tgUpdate { return u.text(u.order) }, func(m botMessage) bool {
			return m.has("cmd|cancel") && strings.Contains(m.text, u.order)
		}},
		{"email", func(botMessage) tgUpdate { return u.text(u.email) }, has("track.show_shipment|e:refresh")},
	}
	var prev botMessage
	for i, st := range steps {
		if u.rng != nil && i > 0 {
			if !u.pause(ctx, u.thinkTime(), deadline) {
				return errDeadline
			}
		}
		if !time.Now().Before(deadline) {
			return errDeadline
		}
		last := prev
		m, err := u.step(ctx, p, func() tgUpdate { return st.send(last) }, st.want, timeout)
		if err != nil {
			return fmt.Errorf("step %s: %w", st.name, err)
		}
		prev = m
	}
	return nil
}

// thinkTime is how long a --rush customer reads a reply, thinks and acts:
// uniform within ±50% of think.
func (u *customer) thinkTime() time.Duration {
	return u.think/2 + time.Duration(u.rng.Int64N(int64(u.think)+1))
}

// pause waits d, and reports false if the run is over first.
func (u *customer) pause(ctx context.Context, d time.Duration, deadline time.Time) bool {
	if !time.Now().Add(d).Before(deadline) {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// step posts the update send makes and waits for the bot's message that
// want accepts. With --rush the post does not hold the customer up (the
// Telegram app shows the message as sent at once), an impatient customer
// sends again after patience, and one who waited timeout gives up
// (errGaveUp); otherwise waiting timeout is an error.
func (u *customer) step(ctx context.Context, p *webhookPoster, send func() tgUpdate, want func(botMessage) bool, timeout time.Duration) (botMessage, error) {
	// Drop what an earlier step left over.
	for len(u.inbox) > 0 {
		<-u.inbox
	}
	var ids []int64
	defer func() { u.tl.forget(ids...) }()
	t0 := time.Now()
	post := func() error {
		id, body, err := p.encode(send())
		if err != nil {
			return err
		}
		ids = append(ids, id)
		u.updates++
		if u.rng == nil {
			return p.postOK(ctx, id, body)
		}
		u.posts.Go(func() {
			if err := p.postOK(ctx, id, body); err != nil && ctx.Err() == nil {
				u.errs.add("chat %d: %v", u.chat, err)
			}
		})
		return nil
	}
	if err := post(); err != nil {
		return botMessage{}, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	var impatience <-chan time.Time
	if u.patience > 0 {
		it := time.NewTicker(u.patience)
		defer it.Stop()
		impatience = it.C
	}
	var seen []string
	for {
		select {
		case m := <-u.inbox:
			if !want(m) {
				seen = append(seen, fmt.Sprintf("%q %v", m.text, m.buttons))
				continue
			}
			u.latencies = append(u.latencies, m.at.Sub(t0))
			if len(ids) == 1 {
				if s := u.tl.take(ids[0]); s.complete() && !m.at.Before(s[stampHandled]) {
					u.splits = append(u.splits, split{
						transit:  s[stampReceived].Sub(t0),
						queue:    s[stampStarted].Sub(s[stampReceived]),
						handling: s[stampHandled].Sub(s[stampStarted]),
						delivery: m.at.Sub(s[stampHandled]),
					})
				}
			}
			return m, nil
		case <-impatience:
			if len(ids) <= maxRetries {
				u.retries++
				if err := post(); err != nil {
					return botMessage{}, err
				}
			}
		case <-t.C:
			if u.rng != nil {
				return botMessage{}, errGaveUp
			}
			return botMessage{}, fmt.Errorf("no expected reply within %s; got %s", timeout, strings.Join(seen, "; "))
		case <-ctx.Done():
			return botMessage{}, ctx.Err()
		}
	}
}

func (u *customer) from() tgUser {
	return tgUser{ID: u.chat, FirstName: "Load", LanguageCode: u.lang}
}

// text is a text message from the customer.
func (u *customer) text(s string) tgUpdate {
	from := u.from()
	return tgUpdate{Message: &tgMessage{
		MessageID: int(u.msgIDs.Add(1)), From: &from, Date: time.Now().Unix(), Text: s,
		Chat: tgChat{ID: u.chat, Type: "private", FirstName: from.FirstName},
	}}
}

// press is a button press on the bot's message msgID.
func (u *customer) press(msgID int, data string) tgUpdate {
	u.queries++
	return tgUpdate{CallbackQuery: &tgCallback{
		ID: "q" + strconv.FormatInt(u.chat, 10) + "-" + strconv.FormatInt(u.queries, 10), From: u.from(), ChatInstance: "1", Data: data,
		Message: tgMessage{MessageID: msgID, Date: time.Now().Unix(), Chat: tgChat{ID: u.chat, Type: "private"},
			From: &tgUser{ID: 424242, IsBot: true, FirstName: "Support"}},
	}}
}

// webhookPoster posts updates to the bot's webhook as Telegram does.
type webhookPoster struct {
	client *http.Client
	url    string
	secret string
	ids    atomic.Int64
}

// encode gives upd the next update id and returns it with the JSON body.
func (p *webhookPoster) encode(upd tgUpdate) (int64, []byte, error) {
	upd.UpdateID = p.ids.Add(1)
	body, err := json.Marshal(upd)
	return upd.UpdateID, body, err
}

// post sends one update and returns the HTTP status.
func (p *webhookPoster) post(ctx context.Context, id int64, update []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(update))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", p.secret)
	req.Header.Set(updateHeader, strconv.FormatInt(id, 10))
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// postOK posts one update and fails unless the webhook answers 200.
func (p *webhookPoster) postOK(ctx context.Context, id int64, update []byte) error {
	code, err := p.post(ctx, id, update)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("webhook answered %d", code)
	}
	return nil
}

// ready waits until the webhook accepts updates: it answers 503 until Run
// has started.
func (p *webhookPoster) ready(ctx context.Context, runDone <-chan error) error {
	id, probe, err := p.encode(tgUpdate{Message: &tgMessage{
		MessageID: 1, Chat: tgChat{ID: 1, Type: "private"}, Date: time.Now().Unix(), Text: "/help",
		From: &tgUser{ID: 1, FirstName: "Probe"},
	}})
	if err != nil {
		return err
	}
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	for {
		code, err := p.post(ctx, id, probe)
		if err == nil && code == http.StatusOK {
			return nil
		}
		if err == nil && code != http.StatusServiceUnavailable {
			return fmt.Errorf("webhook answered %d", code)
		}
		select {
		case err := <-runDone:
			return fmt.Errorf("bot stopped: %v", err)
		case <-t.C:
			return errors.New("webhook not ready after 30s")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
			// Run is starting: getMe, the pending outbox, then the workers.
		}
	}
}

// The Bot API's JSON, as much of it as the load run sends.
type (
	tgUser struct {
		ID           int64  `json:"id"`
		IsBot        bool   `json:"is_bot"`
		FirstName    string `json:"first_name"`
		LanguageCode string `json:"language_code,omitempty"`
	}
	tgChat struct {
		ID        int64  `json:"id"`
		Type      string `json:"type"`
		FirstName string `json:"first_name,omitempty"`
	}
	tgMessage struct {
		MessageID int     `json:"message_id"`
		From      *tgUser `json:"from,omitempty"`
		Chat      tgChat  `json:"chat"`
		Date      int64   `json:"date"`
		Text      string  `json:"text,omitempty"`
	}
	tgCallback struct {
		ID           string    `json:"id"`
		From         tgUser    `json:"from"`
		Message      tgMessage `json:"message"`
		ChatInstance string    `json:"chat_instance"`
		Data         string    `json:"data"`
	}
	tgUpdate struct {
		UpdateID      int64       `json:"update_id"`
		Message       *tgMessage  `json:"message,omitempty"`
		CallbackQuery *tgCallback `json:"callback_query,omitempty"`
	}
)
