package telegram

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"

	"supportbot/bot"
)

// sendTimeout bounds one Bot API call of the sender.
const sendTimeout = 30 * time.Second

// pendingPage is how many undelivered envelopes Run reads from the engine
// at a time.
const pendingPage = 10000

// outbox delivers committed envelopes: in order per chat, chats in
// parallel, within Telegram's rate limits.
//
// Rate limits and 429 pauses are kept on the real clock (time.Now), the
// one their timers run on; Options.Now only stamps when a reply was queued.
type outbox struct {
	c *Channel
	// page is how many pending envelopes load reads at a time.
	page int

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
	// recovering is set by a 429: the first send after the pause goes
	// alone, as a probe, and the others wait for its answer.
	recovering bool
	probe      chan struct{} // closed when the probe in flight is answered
	// loading is set while load reads the engine's pending envelopes;
	// envelopes enqueued meanwhile are held until it is done.
	loading bool
	held    []bot.Envelope
	wg      sync.WaitGroup
}

// chatQueue is one chat's undelivered envelopes.
type chatQueue struct {
	envs    []bot.Envelope
	running bool
	busy    bool // envs[0] is being sent
	step    int  // steps of envs[0] already done
	// granted: a send slot (both limits) was won for envs[0] but not used,
	// because a newer screen superseded it meanwhile; the next send takes
	// the slot without waiting again.
	granted bool
}

func newOutbox(c *Channel) *outbox {
	o := &outbox{c: c, page: pendingPage}
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

// load queues every envelope pending in the engine, reading them page by
// page in ID order, so each chat's replies go out in the order they were
// committed. Envelopes enqueued meanwhile (Deliver) are held and queued
// after them, skipping those a page already had.
func (o *outbox) load(ctx context.Context) error {
	o.mu.Lock()
	o.loading = true
	o.mu.Unlock()
	var after uint64 // the highest ID read
	var err error
	for {
		var envs []bot.Envelope
		envs, err = o.c.eng.Pending(ctx, channelName, after, o.page)
		if err != nil {
			break
		}
		o.put(envs, true)
		if len(envs) > 0 {
			after = envs[len(envs)-1].ID
		}
		if len(envs) < o.page {
			break
		}
	}
	o.mu.Lock()
	o.loading = false
	held := o.held
	o.held = nil
	o.mu.Unlock()
	// A held envelope with an ID up to after was committed before the page
	// that had it was read; a later one was not read at all.
	held = slices.DeleteFunc(held, func(e bot.Envelope) bool { return e.ID != 0 && e.ID <= after })
	o.put(held, false)
	return err
}

// enqueue queues envelopes for delivery. Envelopes already queued, and
// those of other channels, are skipped; those for a chat that blocked the
// bot are marked delivered at once.
func (o *outbox) enqueue(envs ...bot.Envelope) { o.put(envs, false) }

// put is enqueue; while load runs, only load's own envelopes (loading)
// are queued, others are held.
func (o *outbox) put(envs []bot.Envelope, loading bool) {
	var drop, superseded []uint64
	o.mu.Lock()
	if o.loading && !loading {
		o.held = append(o.held, envs...)
		o.mu.Unlock()
		return
	}
	for _, e := range envs {
		chat, ok := chatOf(e.Key)
		if !ok { // another channel's (a ticket's Slack thread): its adapter delivers it
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
		if screen(e.Reply) {
			superseded = append(superseded, o.supersede(q)...)
		}
		if !q.running && o.ctx.Err() == nil {
			q.running = true
			o.wg.Add(1)
			go o.drain(chat, q)
		}
	}
	o.mu.Unlock()
	for range superseded {
		o.c.opt.Observer.Superseded()
	}
	o.delivered(append(drop, superseded...)...)
}

// screen reports a reply that is a screen to act on: a message (or an
// edit of one) with text and buttons, deleting nothing, and not marked
// Keep (a journey's result, a note on top of a screen).
func screen(r bot.Reply) bool {
	return len(r.Buttons) > 0 && strings.TrimSpace(r.Text) != "" && r.DeleteID == 0 && !r.Keep
}

// supersede drops from q the screens queued before its last envelope, a
// screen: only the newest screen is worth sending to a chat that has
// several waiting. Nothing else is dropped — a reply without buttons (a
// result, a confirmation, a warning), a deletion, an edit removing
// buttons — nor the envelope being sent. It returns the IDs dropped, to
// be marked delivered; call with o.mu held.
func (o *outbox) supersede(q *chatQueue) []uint64 {
	first := 0
	if q.busy || q.step > 0 {
		first = 1 // under way
	}
	last := len(q.envs) - 1
	var ids []uint64
	kept := q.envs[:first]
	for i := first; i < last; i++ {
		e := q.envs[i]
		if screen(e.Reply) {
			ids = append(ids, e.ID)
			delete(o.queued, e.ID)
			continue
		}
		kept = append(kept, e)
	}
	if ids == nil {
		return nil
	}
	kept = append(kept, q.envs[last])
	clear(q.envs[len(kept):])
	q.envs = kept
	return ids
}

// reachable clears a chat's blocked mark: its customer wrote again.
func (o *outbox) reachable(chat int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.blocked, chat)
}

type outcome int

const (
	sent      outcome = iota // every step done (or dropped as undeliverable)
	blocked                  // 403: the customer blocked the bot
	stalled                  // given up during the shutdown flush after MaxAttempts
	stopped                  // the sending context ended
	overtaken                // superseded by a newer screen while it waited for its slot
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
		q.busy = true
		o.mu.Unlock()

		res, done := o.deliver(chat, env, from)
		switch res {
		case overtaken:
			// Its slot goes to the newer screen, at once.
			o.mu.Lock()
			q.envs, q.step, q.busy, q.granted = q.envs[1:], 0, false, true
			delete(o.queued, env.ID)
			o.mu.Unlock()
			o.c.opt.Observer.Superseded()
			o.delivered(env.ID)
		case sent:
			o.mu.Lock()
			q.envs, q.step, q.busy = q.envs[1:], 0, false
			delete(o.queued, env.ID)
			o.mu.Unlock()
			o.delivered(env.ID)
		case blocked:
			o.block(chat, q, env.Key)
		case stalled, stopped:
			// Left pending for the next start.
			o.mu.Lock()
			q.step, q.busy = done, false
			q.running = false
			o.mu.Unlock()
			return
		}
	}
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
	q.envs, q.step, q.busy = nil, 0, false
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
		var overtakenBy func() bool
		if i == 0 && screen(env.Reply) {
			overtakenBy = func() bool { return o.overtaken(chat) }
		}
		err := o.send(chat, log, st, overtakenBy)
		var failed *sendError
		switch {
		case errors.Is(err, errOvertaken):
			return overtaken, 0
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

// errOvertaken: a screen superseded while it waited for its send slot.
var errOvertaken = errors.New("superseded while waiting to be sent")

// overtaken reports whether chat's queue holds a screen newer than the
// one at its head, being sent: under load a slot can take seconds to come,
// and a customer who acted meanwhile needs only the newest screen.
func (o *outbox) overtaken(chat int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	q := o.chats[chat]
	if q == nil || q.step > 0 {
		return false
	}
	for _, e := range q.envs[1:] {
		if screen(e.Reply) {
			return true
		}
	}
	return false
}

// notModified reports Telegram's answer to an edit that changes nothing.
// The SDK gives no typed error for it, so this matches the Bot API's
// documented description text.
func notModified(err error) bool {
	return errors.Is(err, tg.ErrorBadRequest) && strings.Contains(err.Error(), "message is not modified")
}

// sendError ends a send without an answer from Telegram: it was given up
// during the shutdown flush (stalled) or the sending context ended.
type sendError struct {
	stalled bool
	err     error
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// send makes one step's call within the rate limits: it waits out 429s and
// retries 5xx and network errors with capped exponential backoff for as
// long as the channel runs; during the shutdown flush it gives up after
// MaxAttempts. It returns nil, a *sendError, or Telegram's error for a
// request it refused (4xx).
//
// overtaken, if set, is asked once the slot is won: true means a newer
// screen for the chat was queued while this one waited, so this one is not
// sent (errOvertaken) and its slot passes to the newer one.
func (o *outbox) send(chat int64, log *slog.Logger, st step, overtaken func() bool) error {
	method := st.kind.method()
	for attempt := 1; ; {
		probe, err := o.wait(chat)
		if err != nil {
			return &sendError{err: err}
		}
		if overtaken != nil && overtaken() {
			if probe {
				o.endProbe(false) // not sent: the next send probes
			}
			return errOvertaken
		}
		ctx, cancel := context.WithTimeout(o.ctx, sendTimeout)
		err = o.call(ctx, chat, st)
		cancel()
		var tooMany *tg.TooManyRequestsError
		if errors.As(err, &tooMany) {
			// Before the probe ends, so those waiting for it see the pause.
			o.pauseFor(time.Duration(tooMany.RetryAfter) * time.Second)
		}
		if probe {
			o.endProbe(true)
		}
		if err == nil {
			o.c.opt.Observer.Sent(method, SendOK)
			log.Debug("sent", "method", method, "units", utf16Len(st.text))
			return nil
		}
		if o.ctx.Err() != nil {
			return &sendError{err: o.ctx.Err()}
		}
		if tooMany != nil {
			o.c.opt.Observer.Sent(method, SendRateLimited)
			log.Warn("rate limited, pausing all sends", "retry_after", tooMany.RetryAfter)
			continue
		}
		if refused(err) {
			o.c.opt.Observer.Sent(method, refusal(st, err))
			return err
		}
		if o.flushingNow() && attempt >= o.c.opt.MaxAttempts {
			o.c.opt.Observer.Sent(method, SendError)
			log.Error("send failing at shutdown, left pending", "method", method, "attempts", attempt, o.c.errAttr(err))
			return &sendError{stalled: true, err: err}
		}
		o.c.opt.Observer.Sent(method, SendRetry)
		if attempt == o.c.opt.MaxAttempts {
			log.Error("send failing, retrying with backoff", "method", method, "attempts", attempt, o.c.errAttr(err))
		} else {
			log.Warn("send failed, retrying", "method", method, "attempt", attempt, o.c.errAttr(err))
		}
		if !o.retryWait(o.backoff(attempt), attempt >= o.c.opt.MaxAttempts) {
			if o.ctx.Err() != nil {
				return &sendError{err: o.ctx.Err()}
			}
			log.Error("send failing at shutdown, left pending", "method", method, "attempts", attempt, o.c.errAttr(err))
			return &sendError{stalled: true, err: err}
		}
		attempt++
	}
}

// backoff is the wait before the retry that follows failed attempt n:
// RetryBackoff doubled per attempt up to MaxBackoff, of which a random
// half to all (equal jitter), so chats failing together do not retry
// together.
func (o *outbox) backoff(n int) time.Duration {
	ceiling := max(o.c.opt.MaxBackoff, o.c.opt.RetryBackoff)
	d := o.c.opt.RetryBackoff
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return d/2 + rand.N(d/2+1)
}

// retryWait waits d before a retry; false if the sending context ends
// first, or if the shutdown flush starts and giveUp is set.
func (o *outbox) retryWait(d time.Duration, giveUp bool) bool {
	var flushing <-chan struct{}
	if giveUp {
		o.mu.Lock()
		flushing = o.flushing
		o.mu.Unlock()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return o.ctx.Err() == nil
	case <-flushing:
	case <-o.ctx.Done():
	}
	return false
}

// flushingNow reports whether the shutdown flush has started.
func (o *outbox) flushingNow() bool {
	o.mu.Lock()
	flushing := o.flushing
	o.mu.Unlock()
	select {
	case <-flushing:
		return true
	default:
		return false
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
// own limit and the global one allow it, no 429 pause is on and no probe
// is in flight. probe reports that this send is the first after a pause:
// the caller calls endProbe(true) once it is answered (after pauseFor, on
// a 429).
func (o *outbox) wait(chat int64) (probe bool, err error) {
	o.mu.Lock()
	if q := o.chats[chat]; q != nil && q.granted {
		// The slot an overtaken screen won, unused: take it, unless a 429
		// pause began meanwhile.
		q.granted = false
		if !o.pausedLocked(time.Now()) && o.probe == nil {
			o.mu.Unlock()
			return false, nil
		}
	}
	o.mu.Unlock()
	o.waitTyping(chat)
	if interval := o.c.opt.PerChatInterval; interval > 0 {
		o.mu.Lock()
		lim := o.limits[chat]
		if lim == nil {
			o.pruneLimits()
			lim = &gcra{}
			o.limits[chat] = lim
		}
		d := lim.reserve(time.Now(), interval, o.c.opt.PerChatBurst)
		o.mu.Unlock()
		if !sleep(o.ctx, d) {
			return false, o.ctx.Err()
		}
	}
	for {
		if err := o.waitPause(); err != nil {
			return false, err
		}
		o.mu.Lock()
		if o.pausedLocked(time.Now()) {
			o.mu.Unlock()
			continue // another send became the probe, or a 429 came
		}
		probe = o.recovering
		if probe {
			o.recovering = false
			o.probe = make(chan struct{})
		}
		var d time.Duration
		if rate := o.c.opt.GlobalPerSecond; rate > 0 {
			d = o.global.reserve(time.Now(), time.Duration(float64(time.Second)/rate), max(1, int(rate)))
		}
		o.mu.Unlock()
		ok := sleep(o.ctx, d)
		o.mu.Lock()
		// A 429 answered meanwhile, to a call made before the pause, or a
		// probe that started while this send waited for the global limit.
		again := o.pause.After(time.Now()) || (!probe && o.probe != nil)
		o.mu.Unlock()
		if ok && !again {
			return probe, nil
		}
		if probe {
			o.endProbe(false) // not sent: the next send probes
		}
		if !ok {
			return false, o.ctx.Err()
		}
	}
}

// waitPause waits until no 429 pause is on and no probe is in flight.
func (o *outbox) waitPause() error {
	for {
		o.mu.Lock()
		left := o.pause.Sub(time.Now())
		probe := o.probe
		o.mu.Unlock()
		switch {
		case left > 0:
			if !sleep(o.ctx, left) {
				return o.ctx.Err()
			}
		case probe != nil:
			select {
			case <-probe:
			case <-o.ctx.Done():
				return o.ctx.Err()
			}
		default:
			return nil
		}
	}
}

// endProbe lets the sends waiting for the probe go on; if it was not
// sent, the next send probes instead.
func (o *outbox) endProbe(sent bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.probe != nil {
		close(o.probe)
		o.probe = nil
	}
	if !sent {
		o.recovering = true
	}
}

// pruneLimits forgets chats whose limit is fully recharged; call with o.mu held.
func (o *outbox) pruneLimits() {
	if len(o.limits) < 4096 {
		return
	}
	now := time.Now()
	for chat, l := range o.limits {
		if !l.tat.After(now) {
			delete(o.limits, chat)
		}
	}
}

// pauseFor stops all sending for d (at least a second); then one send
// probes whether Telegram takes messages again before the others follow.
func (o *outbox) pauseFor(d time.Duration) {
	d = max(d, time.Second)
	o.c.opt.Observer.Paused(d)
	until := time.Now().Add(d)
	o.mu.Lock()
	defer o.mu.Unlock()
	if until.After(o.pause) {
		o.pause = until
	}
	o.recovering = true
}

// paused reports whether sending is held back by a 429: its pause, or the
// probe after it.
func (o *outbox) paused() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pausedLocked(time.Now()) || o.recovering
}

func (o *outbox) pausedLocked(now time.Time) bool {
	return o.pause.After(now) || o.probe != nil
}

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
// jitterSlack is how much earlier than its slot a message may reach
// Telegram without exceeding a limit (see gcra.reserve).
const jitterSlack = 50 * time.Millisecond

type gcra struct {
	tat time.Time // theoretical arrival time of the next event
}

// The burst allowed is a little short of burst (by jitterSlack): requests
// reach Telegram with varying delays, so two sent exactly interval apart
// may arrive closer, and Telegram, counting them on arrival, would answer
// 429 — which pauses every chat. The rate itself is not lowered.
func (g *gcra) reserve(now time.Time, interval time.Duration, burst int) time.Duration {
	if g.tat.Before(now) {
		g.tat = now
	}
	tolerance := time.Duration(burst-1) * interval
	if burst > 1 {
		tolerance -= min(interval/2, jitterSlack)
	}
	wait := g.tat.Add(-tolerance).Sub(now)
	g.tat = g.tat.Add(interval)
	return max(wait, 0)
}
