package telegram

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"

	"supportbot/bot"
)

// sendTimeout bounds one Bot API call of the sender.
const sendTimeout = 30 * time.Second

// stallRetry is how long a chat whose sends keep failing waits before its
// queue is tried again.
const stallRetry = time.Minute

// outbox delivers committed envelopes: in order per chat, chats in
// parallel, within Telegram's rate limits.
type outbox struct {
	c *Channel

	mu sync.Mutex
	// ctx is the sending context: it ends when the shutdown flush is over.
	ctx      context.Context
	cancel   context.CancelFunc
	flushing chan struct{} // closed when the shutdown flush starts
	chats    map[int64]*chatQueue
	queued   map[uint64]time.Time // envelope IDs queued or being sent → when queued
	blocked  map[int64]bool       // chats whose customer blocked the bot
	typing   map[int64]chan struct{}
	limits   map[int64]*gcra
	global   gcra
	pause    time.Time // no sending before this (429)
	wg       sync.WaitGroup
}

// chatQueue is one chat's undelivered envelopes.
type chatQueue struct {
	envs    []bot.Envelope
	running bool
	step    int // steps of envs[0] already done
}

func newOutbox(c *Channel) *outbox {
	o := &outbox{c: c}
	o.reset(context.Background())
	o.cancel()
	return o
}

func (o *outbox) reset(ctx context.Context) {
	o.ctx, o.cancel = context.WithCancel(context.WithoutCancel(ctx))
	o.flushing = make(chan struct{})
	o.chats = map[int64]*chatQueue{}
	o.queued = map[uint64]time.Time{}
	o.blocked = map[int64]bool{}
	o.typing = map[int64]chan struct{}{}
	o.limits = map[int64]*gcra{}
}

// start readies the outbox for a Run.
func (o *outbox) start(ctx context.Context) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reset(ctx)
}

// flush waits up to timeout for the queues to drain, then stops sending.
// What is left stays pending in the engine's outbox.
func (o *outbox) flush(timeout time.Duration) {
	o.mu.Lock()
	close(o.flushing)
	o.mu.Unlock()
	done := make(chan struct{})
	go func() {
		o.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		o.c.log.Warn("shutdown flush timed out; replies left pending")
		o.cancel()
		<-done
	}
	o.cancel()
}

// enqueue queues envelopes for delivery. Envelopes already queued, and
// those of other channels, are skipped; those for a chat that blocked the
// bot are marked delivered at once.
func (o *outbox) enqueue(envs ...bot.Envelope) {
	var drop []uint64
	o.mu.Lock()
	for _, e := range envs {
		chat, ok := chatOf(e.Key)
		if !ok {
			o.c.log.Warn("envelope of another channel left pending", "chat", e.Key, "id", e.ID)
			continue
		}
		if _, ok := o.queued[e.ID]; e.ID != 0 && ok {
			continue
		}
		if o.blocked[chat] {
			drop = append(drop, e.ID)
			continue
		}
		q := o.chats[chat]
		if q == nil {
			q = &chatQueue{}
			o.chats[chat] = q
		}
		q.envs = append(q.envs, e)
		if e.ID != 0 {
			o.queued[e.ID] = o.c.opt.Now()
		}
		if !q.running && o.ctx.Err() == nil {
			q.running = true
			o.wg.Add(1)
			go o.drain(chat, q)
		}
	}
	o.mu.Unlock()
	o.delivered(drop...)
}

// reachable clears a chat's blocked mark: its customer wrote again.
func (o *outbox) reachable(chat int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.blocked, chat)
}

type outcome int

const (
	sent    outcome = iota // every step done (or dropped as undeliverable)
	blocked                // 403: the customer blocked the bot
	stalled                // 5xx or network errors past MaxAttempts
	stopped                // the sending context ended
)

// drain delivers one chat's queue until it is empty.
func (o *outbox) drain(chat int64, q *chatQueue) {
	defer o.wg.Done()
	for {
		o.mu.Lock()
		if len(q.envs) == 0 || o.ctx.Err() != nil {
			q.running = false
			if len(q.envs) == 0 {
				delete(o.chats, chat)
			}
			o.mu.Unlock()
			return
		}
		env, from := q.envs[0], q.step
		o.mu.Unlock()

		res, done := o.deliver(chat, env, from)
		switch res {
		case sent:
			o.mu.Lock()
			q.envs, q.step = q.envs[1:], 0
			delete(o.queued, env.ID)
			o.mu.Unlock()
			o.delivered(env.ID)
		case blocked:
			o.block(chat, q, env.Key)
		case stalled, stopped:
			o.mu.Lock()
			q.step = done
			flushing := o.flushing
			o.mu.Unlock()
			if res == stopped || !o.waitStall(flushing) {
				o.mu.Lock()
				q.running = false
				o.mu.Unlock()
				return
			}
		}
	}
}

// waitStall waits before a stalled chat is retried; false if the outbox is
// shutting down meanwhile.
func (o *outbox) waitStall(flushing <-chan struct{}) bool {
	t := time.NewTimer(stallRetry)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-flushing:
	case <-o.ctx.Done():
	}
	return false
}

// block handles a 403: the conversation is deactivated, and its queued
// envelopes are dropped (marked delivered) until the customer writes again.
func (o *outbox) block(chat int64, q *chatQueue, key string) {
	o.c.log.Info("customer blocked the bot", "chat", key)
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	if err := o.c.eng.Deactivate(ctx, key); err != nil {
		o.c.log.Error("deactivate", "chat", key, o.c.errAttr(err))
	}
	o.mu.Lock()
	o.blocked[chat] = true
	ids := make([]uint64, 0, len(q.envs))
	for _, e := range q.envs {
		ids = append(ids, e.ID)
		delete(o.queued, e.ID)
	}
	q.envs, q.step = nil, 0
	o.mu.Unlock()
	o.delivered(ids...)
}

// delivered removes envelopes from the engine's outbox.
func (o *outbox) delivered(ids ...uint64) {
	ids = dropZero(ids)
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	if err := o.c.eng.Delivered(ctx, ids...); err != nil {
		o.c.log.Error("mark delivered", "ids", ids, o.c.errAttr(err))
	}
}

func dropZero(ids []uint64) []uint64 {
	out := ids[:0:0]
	for _, id := range ids {
		if id != 0 {
			out = append(out, id)
		}
	}
	return out
}

// deliver runs an envelope's steps from step from, and returns how far it
// got. Its logs carry the chat and the update the reply answers.
func (o *outbox) deliver(chat int64, env bot.Envelope, from int) (outcome, int) {
	log := bot.UpdateLogger(o.c.log, env.Key, env.UpdateID)
	steps := o.plan(env, log)
	for i := from; i < len(steps); {
		st := steps[i]
		err := o.send(chat, log, st)
		var failed *sendError
		switch {
		case err == nil:
			i++
		case errors.As(err, &failed) && failed.stalled:
			return stalled, i
		case errors.As(err, &failed):
			return stopped, i
		case errors.Is(err, tg.ErrorForbidden):
			return blocked, i
		case (st.kind == stepEdit || st.kind == stepEditMarkup) && notModified(err):
			i++
		case st.kind == stepEdit:
			// Too old to edit, or gone: send it as a new message.
			log.Info("edit failed, sending anew", o.c.errAttr(err))
			steps[i].kind = stepSend
		case st.kind == stepDelete || st.kind == stepEditMarkup:
			log.Debug(st.kind.method()+" failed, ignored", o.c.errAttr(err))
			i++
		default:
			log.Error("reply dropped", "id", env.ID, "method", st.kind.method(), o.c.errAttr(err))
			i++
		}
	}
	return sent, len(steps)
}

// notModified reports Telegram's answer to an edit that changes nothing.
// The SDK gives no typed error for it, so this matches the Bot API's
// documented description text.
func notModified(err error) bool {
	return errors.Is(err, tg.ErrorBadRequest) && strings.Contains(err.Error(), "message is not modified")
}

// sendError ends a send without an answer from Telegram: retries ran out
// (stalled) or the sending context ended.
type sendError struct {
	stalled bool
	err     error
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// send makes one step's call within the rate limits: it waits out 429s and
// retries 5xx and network errors up to MaxAttempts. It returns nil, a
// *sendError, or Telegram's error for a request it refused (4xx).
func (o *outbox) send(chat int64, log *slog.Logger, st step) error {
	for attempt := 1; ; {
		if err := o.wait(chat); err != nil {
			return &sendError{err: err}
		}
		ctx, cancel := context.WithTimeout(o.ctx, sendTimeout)
		err := o.call(ctx, chat, st)
		cancel()
		if err == nil {
			o.c.opt.Observer.Sent(st.kind.method(), SendOK)
			log.Debug("sent", "method", st.kind.method(), "units", utf16Len(st.text))
			return nil
		}
		if o.ctx.Err() != nil {
			return &sendError{err: o.ctx.Err()}
		}
		var tooMany *tg.TooManyRequestsError
		if errors.As(err, &tooMany) {
			o.c.opt.Observer.Sent(st.kind.method(), SendRateLimited)
			o.pauseFor(time.Duration(tooMany.RetryAfter) * time.Second)
			log.Warn("rate limited, pausing all sends", "retry_after", tooMany.RetryAfter)
			continue
		}
		if refused(err) {
			o.c.opt.Observer.Sent(st.kind.method(), refusal(st, err))
			return err
		}
		if attempt >= o.c.opt.MaxAttempts {
			o.c.opt.Observer.Sent(st.kind.method(), SendError)
			log.Error("send failing, left pending", "method", st.kind.method(), "attempts", attempt, o.c.errAttr(err))
			return &sendError{stalled: true, err: err}
		}
		o.c.opt.Observer.Sent(st.kind.method(), SendRetry)
		log.Warn("send failed, retrying", "method", st.kind.method(), "attempt", attempt, o.c.errAttr(err))
		if !sleep(o.ctx, o.c.opt.RetryBackoff<<(attempt-1)) {
			return &sendError{err: o.ctx.Err()}
		}
		attempt++
	}
}

// refused reports an answer that a retry cannot fix: the request itself is
// wrong (400) or the customer is gone (403). A rejected token (401, 404) is
// retried and then left pending: the message is fine, the deployment is not.
func refused(err error) bool {
	var migrate *tg.MigrateError
	return errors.Is(err, tg.ErrorBadRequest) || errors.Is(err, tg.ErrorForbidden) ||
		errors.Is(err, tg.ErrorConflict) || errors.As(err, &migrate)
}

func (o *outbox) call(ctx context.Context, chat int64, st step) error {
	var err error
	switch st.kind {
	case stepSend:
		p := &tg.SendMessageParams{ChatID: chat, Text: st.text}
		if st.markup != nil {
			p.ReplyMarkup = st.markup
		}
		_, err = o.c.api.SendMessage(ctx, p)
	case stepEdit:
		p := &tg.EditMessageTextParams{ChatID: chat, MessageID: st.msgID, Text: st.text}
		if st.markup != nil {
			p.ReplyMarkup = st.markup
		}
		_, err = o.c.api.EditMessageText(ctx, p)
	case stepEditMarkup:
		_, err = o.c.api.EditMessageReplyMarkup(ctx, &tg.EditMessageReplyMarkupParams{ChatID: chat, MessageID: st.msgID, ReplyMarkup: st.markup})
	case stepDelete:
		_, err = o.c.api.DeleteMessage(ctx, &tg.DeleteMessageParams{ChatID: chat, MessageID: st.msgID})
	}
	return err
}

// wait blocks until chat may be sent to: its typing indicator is out, its
// own limit and the global one allow it, and no 429 pause is on.
func (o *outbox) wait(chat int64) error {
	o.waitTyping(chat)
	o.mu.Lock()
	lim := o.limits[chat]
	if lim == nil {
		o.pruneLimits()
		lim = &gcra{}
		o.limits[chat] = lim
	}
	d := lim.reserve(o.c.opt.Now(), o.c.opt.PerChatInterval, o.c.opt.PerChatBurst)
	o.mu.Unlock()
	if !sleep(o.ctx, d) {
		return o.ctx.Err()
	}
	for range 3 {
		if !sleep(o.ctx, o.pauseLeft()) {
			return o.ctx.Err()
		}
		o.mu.Lock()
		d := o.global.reserve(o.c.opt.Now(), time.Second/time.Duration(o.c.opt.GlobalPerSecond), 1)
		o.mu.Unlock()
		if !sleep(o.ctx, d) {
			return o.ctx.Err()
		}
		if o.pauseLeft() <= 0 {
			break
		}
	}
	return nil
}

// pruneLimits forgets chats whose limit is fully recharged; call with o.mu held.
func (o *outbox) pruneLimits() {
	if len(o.limits) < 4096 {
		return
	}
	now := o.c.opt.Now()
	for chat, l := range o.limits {
		if !l.tat.After(now) {
			delete(o.limits, chat)
		}
	}
}

// pauseFor stops all sending for d (at least a second).
func (o *outbox) pauseFor(d time.Duration) {
	d = max(d, time.Second)
	o.c.opt.Observer.Paused(d)
	until := o.c.opt.Now().Add(d)
	o.mu.Lock()
	defer o.mu.Unlock()
	if until.After(o.pause) {
		o.pause = until
	}
}

func (o *outbox) pauseLeft() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pause.Sub(o.c.opt.Now())
}

func (o *outbox) paused() bool { return o.pauseLeft() > 0 }

// typingStarted notes a typing indicator in flight for chat; call
// typingEnded when it is done.
func (o *outbox) typingStarted(chat int64) chan struct{} {
	done := make(chan struct{})
	o.mu.Lock()
	defer o.mu.Unlock()
	o.typing[chat] = done
	return done
}

func (o *outbox) typingEnded(chat int64, done chan struct{}) {
	close(done)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.typing[chat] == done {
		delete(o.typing, chat)
	}
}

// waitTyping waits, briefly, for chat's typing indicator to be out.
func (o *outbox) waitTyping(chat int64) {
	o.mu.Lock()
	done := o.typing[chat]
	o.mu.Unlock()
	if done == nil {
		return
	}
	t := time.NewTimer(typingTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-o.ctx.Done():
	}
}

// gcra is a rate limiter (the generic cell rate algorithm): reserve
// returns how long to wait before the next event so that events keep
// interval apart, allowing bursts of burst.
type gcra struct {
	tat time.Time // theoretical arrival time of the next event
}

func (g *gcra) reserve(now time.Time, interval time.Duration, burst int) time.Duration {
	if g.tat.Before(now) {
		g.tat = now
	}
	wait := g.tat.Add(-time.Duration(burst-1) * interval).Sub(now)
	g.tat = g.tat.Add(interval)
	return max(wait, 0)
}
