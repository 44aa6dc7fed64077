package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"supportbot/bot"
)

// dispatcher runs each chat's updates strictly in order, one at a time, and
// chats in parallel: a chat with updates queued has a goroutine of its own,
// which exits once its queue is empty. So an update waiting on slow I/O (a
// portal call) holds up its own chat only, never another. Memory is
// bounded: at most maxPerChat updates are queued per chat and maxTotal in
// all; beyond that submit refuses (the webhook answers 503 and Telegram
// delivers the update again later; polling fetches it again).
type dispatcher struct {
	c  *Channel
	wg sync.WaitGroup

	maxPerChat, maxTotal int

	mu     sync.Mutex
	closed bool
	chats  map[int64][]*job // queued and running updates, by chat
	total  int

	// hooks admits webhook requests until the shutdown drain.
	hooks gate

	// next hands a chat to an idle worker: a goroutine that emptied a
	// chat's queue waits there up to workerIdle for another chat, so a
	// new chat's update mostly runs on a goroutine whose stack has
	// already grown to what handling needs (starting a goroutine per
	// chat, at a steady pace, grew a fresh stack for nearly every update:
	// about 8% of the bot's CPU). quit, closed by stop, ends the waits.
	next    chan int64
	quit    chan struct{}
	started int // workers started, for tests
}

// workerIdle is how long a worker waits for another chat before it exits.
const workerIdle = 10 * time.Second

// job is one update on its way through a worker.
type job struct {
	inc   incoming
	batch *batch // nil for webhook updates
	// log carries the update's id, and its chat if it has one.
	log *slog.Logger
	// done receives true when the update is consumed (committed, a
	// duplicate, ignored, or a recovered panic) and false when Handle failed
	// and the update must be fetched again.
	done chan bool
}

// batch is one getUpdates answer; once an update of a chat fails, the
// chat's later updates in the batch are not handled, so the refetch sees
// them in order.
type batch struct {
	mu     sync.Mutex
	failed map[int64]bool
	// wake, if set, is signalled each time a job of the batch finishes.
	wake chan struct{}
}

// finished signals b.wake, if any, without blocking.
func (b *batch) finished() {
	if b == nil || b.wake == nil {
		return
	}
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *batch) fail(chat int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failed == nil {
		b.failed = map[int64]bool{}
	}
	b.failed[chat] = true
}

func (b *batch) hasFailed(chat int64) bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed[chat]
}

// Default bounds of the dispatcher's queues.
const (
	defaultMaxQueuedPerChat = 32
	defaultMaxQueued        = 4096
)

func newDispatcher(c *Channel, maxPerChat, maxTotal int) *dispatcher {
	return &dispatcher{c: c, maxPerChat: maxPerChat, maxTotal: maxTotal, chats: map[int64][]*job{},
		next: make(chan int64), quit: make(chan struct{})}
}

// submitResult is what submit did with a job.
type submitResult int

const (
	submitted submitResult = iota
	submitClosed
	submitFull // a queue bound was reached: try again later
)

// submit queues j behind its chat's earlier updates, giving the chat a
// worker if it has none: an idle one, else a new one.
func (d *dispatcher) submit(j *job) submitResult {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return submitClosed
	}
	chat := j.inc.chat
	q, active := d.chats[chat]
	if len(q) >= d.maxPerChat || d.total >= d.maxTotal {
		return submitFull
	}
	d.chats[chat] = append(q, j)
	d.total++
	if !active {
		select {
		case d.next <- chat:
		default:
			d.started++
			d.wg.Go(func() { d.work(chat) })
		}
	}
	return submitted
}

// work runs chat's queue, then the queues of the chats handed to it, until
// none comes for workerIdle or the dispatcher stops.
func (d *dispatcher) work(chat int64) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		d.run(chat)
		idle.Reset(workerIdle)
		select {
		case chat = <-d.next:
		case <-idle.C:
			return
		case <-d.quit:
			return
		}
	}
}

// run handles chat's queue in order until it is empty.
func (d *dispatcher) run(chat int64) {
	for {
		d.mu.Lock()
		q := d.chats[chat]
		if len(q) == 0 {
			delete(d.chats, chat)
			d.mu.Unlock()
			return
		}
		j := q[0]
		d.mu.Unlock()

		ok := d.c.process(j)

		d.mu.Lock()
		q = d.chats[chat]
		q[0] = nil
		d.chats[chat] = q[1:]
		d.total--
		d.mu.Unlock()
		j.done <- ok
		j.batch.finished()
	}
}

// hasRoom reports whether the overall queue bound leaves room for an update.
func (d *dispatcher) hasRoom() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.total < d.maxTotal
}

// stop takes no more updates, lets those queued finish and waits for them.
func (d *dispatcher) stop() {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.quit) // submit hands out no more chats
	}
	d.mu.Unlock()
	d.wg.Wait()
}

// dispatch translates u and queues it on d. The returned channel receives
// whether the update was consumed (see job.done); full reports that it was
// not queued because the queues are at their bounds (the channel then
// receives false).
func (c *Channel) dispatch(d *dispatcher, u *models.Update, b *batch) (done <-chan bool, full bool) {
	res := make(chan bool, 1)
	inc := translate(u, c.opt.DefaultLang)
	log := c.log.With("update", u.ID)
	if inc.in.Key != "" {
		log = bot.UpdateLogger(c.log, inc.in.Key, u.ID)
	}
	if inc.query != "" {
		// At once, not after handling: the button's spinner stops as it
		// is pressed, however long the chat's queue or its portal call.
		c.answer(inc.query, log)
	}
	if inc.act != handle {
		if inc.act == ignore {
			log.Debug("update ignored")
		}
		res <- true
		return res, false
	}
	switch d.submit(&job{inc: inc, batch: b, log: log, done: res}) {
	case submitClosed:
		res <- false
	case submitFull:
		log.Warn("update queues full, update refused for now")
		res <- false
		return res, true
	}
	return res, false
}

// process runs one update on its worker.
func (c *Channel) process(j *job) bool {
	inc, log := j.inc, j.log
	if inc.act != handle {
		return true
	}
	if j.batch.hasFailed(inc.chat) {
		return false
	}
	c.out.reachable(inc.chat)
	stopTyping := func() bool { return false }
	if !inc.in.Unsupported {
		if d := c.opt.TypingDelay; d < 0 {
			c.sendTyping(inc.chat, log)
		} else {
			stopTyping = time.AfterFunc(d, func() { c.sendTyping(inc.chat, log) }).Stop
		}
	}
	// In-flight updates finish even when Run is cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.HandleTimeout)
	defer cancel()
	envs, err, panicked := c.safeHandle(ctx, inc.in, log)
	stopTyping() // answered in time: no indicator needed
	switch {
	case panicked:
		c.notifyInternal(ctx, inc.in.Key, log)
		return true
	case err != nil && !errors.Is(err, bot.ErrDuplicate):
		log.Error("handle update", c.errAttr(err))
		j.batch.fail(inc.chat)
		return false
	}
	c.out.enqueue(envs...)
	return true
}

// safeHandle calls Handle and recovers a panic, logging it once to log.
func (c *Channel) safeHandle(ctx context.Context, in bot.Inbound, log *slog.Logger) (envs []bot.Envelope, err error, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			log.Error("panic handling update", "err", c.redact(fmt.Sprint(r)), "stack", string(debug.Stack()))
		}
	}()
	envs, err = c.eng.Handle(ctx, in)
	return envs, err, false
}

// notifyInternal tells the customer something went wrong, after a panic.
func (c *Channel) notifyInternal(ctx context.Context, key string, log *slog.Logger) {
	envs, err := func() (envs []bot.Envelope, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic in Notify: %v", r)
			}
		}()
		return c.eng.Notify(ctx, key, "error.internal", nil)
	}()
	if err != nil {
		log.Error("notify internal error", c.errAttr(err))
		return
	}
	c.out.enqueue(envs...)
}

// answer answers a callback query in the background; Telegram shows a
// spinner on the button until it is answered. Failures (a stale query) are
// expected and logged at debug level.
func (c *Channel) answer(id string, log *slog.Logger) {
	c.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: id}); err != nil {
			log.Debug("answer callback query", c.errAttr(err))
		}
	})
}

// sendTyping shows "typing…" in chat while the update is handled. It is best
// effort: skipped while sending is paused or too many are in flight, errors
// ignored. The chat's next send waits for it briefly, so the indicator does
// not arrive after the reply.
func (c *Channel) sendTyping(chat int64, log *slog.Logger) {
	if c.out.paused() {
		return
	}
	select {
	case c.typing <- struct{}{}:
	default:
		return
	}
	done := c.out.typingStarted(chat)
	c.bg.Go(func() {
		defer func() { <-c.typing }()
		defer c.out.typingEnded(chat, done)
		ctx, cancel := context.WithTimeout(context.Background(), typingTimeout)
		defer cancel()
		if _, err := c.api.SendChatAction(ctx, &tg.SendChatActionParams{ChatID: chat, Action: models.ChatActionTyping}); err != nil {
			log.Debug("send typing", c.errAttr(err))
		}
	})
}

// typingTimeout bounds a typing indicator call, and how long a send waits
// for it.
const typingTimeout = 2 * time.Second
