package telegram

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// allowedUpdates are the update kinds the channel handles; Telegram sends
// no others.
var allowedUpdates = []string{models.AllowedUpdateMessage, models.AllowedUpdateEditedMessage, models.AllowedUpdateCallbackQuery}

// maxPollBackoff caps the wait between failed polls.
const maxPollBackoff = 30 * time.Second

// poll long-polls getUpdates until ctx ends. It owns the offset: an update
// is confirmed (by asking for a later offset) only once it and every update
// before it were consumed. Fetching goes on while updates are handled, so a
// chat waiting on a slow call holds up only itself: updates still in flight
// are not dispatched again when a later getUpdates returns them. Once an
// update's Handle failed, fetching stops until everything in flight is
// done; then that update is fetched again, with everything after it.
func (c *Channel) poll(ctx context.Context, d *dispatcher) error {
	// getUpdates answers 409 while a webhook is set: delete it once, here
	// (and again on a 409 only until that has succeeded).
	webhookDeleted := c.deleteWebhook(ctx)
	var asked int64
	p := newPipeline()
	var backoff time.Duration
	for ctx.Err() == nil {
		if backoff > 0 && !sleep(ctx, backoff) {
			break
		}
		sent := p.offset
		ups, err := c.getUpdates(ctx, sent, c.opt.PollTimeout, 100)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var tooMany *tg.TooManyRequestsError
			switch {
			case errors.Is(err, tg.ErrorUnauthorized), errors.Is(err, tg.ErrorNotFound):
				p.drain()
				return fmt.Errorf("telegram: getUpdates: %w", err)
			case errors.As(err, &tooMany):
				backoff = max(time.Duration(tooMany.RetryAfter)*time.Second, c.opt.RetryBackoff)
			case errors.Is(err, tg.ErrorConflict):
				// Another instance polls with this token, or a webhook was
				// set since: deleting it again would take it from whoever
				// set it.
				c.log.Error("getUpdates conflict: another process polls with this token, or a webhook was set", c.errAttr(err))
				if !webhookDeleted {
					webhookDeleted = c.deleteWebhook(ctx)
				}
				backoff = c.nextBackoff(backoff)
			default:
				c.log.Warn("getUpdates", c.errAttr(err))
				backoff = c.nextBackoff(backoff)
			}
			continue
		}
		backoff = 0
		asked = sent // confirmed: Telegram answered
		if len(ups) == 0 {
			continue
		}
		full := c.dispatchNew(d, p, ups)
		if p.harvest() {
			// A Handle failed: let everything in flight finish, then fetch
			// again from the first update not consumed.
			p.drain()
			backoff = c.nextBackoff(backoff)
			continue
		}
		if len(p.pending) == 0 {
			continue // all consumed: long-poll for more
		}
		// Updates are in flight. getUpdates answers at once while any is
		// unconfirmed, so fetch again once the confirmed offset moves, a
		// full queue may have room, or after inFlightRepoll (for other
		// chats' new updates) — but not while the overall queue is full.
		before := p.offset
		waitRoom := full && !d.hasRoom()
		t := time.NewTimer(inFlightRepoll)
	wait:
		for {
			var tick <-chan time.Time
			if !waitRoom {
				tick = t.C
			}
			select {
			case <-ctx.Done():
				break wait
			case <-tick:
				break wait
			case <-p.wake:
			}
			if p.harvest() {
				p.drain()
				backoff = c.nextBackoff(backoff)
				break wait
			}
			if p.offset != before || full {
				break wait
			}
		}
		t.Stop()
	}
	// In-flight updates finish even when Run is cancelled: wait for them,
	// then confirm the longest consumed prefix.
	p.drain()
	if p.offset != asked {
		// Confirm what was consumed since the last poll; updates the
		// call returns stay unconfirmed for the next start.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := c.getUpdates(cctx, p.offset, 0, 1); err != nil {
			c.log.Warn("confirm updates at shutdown", c.errAttr(err))
		}
	}
	return nil
}

// inFlightRepoll is how often polling fetches again while every update
// getUpdates returns is still in flight: Telegram cannot be asked for later
// updates only without confirming the earlier ones. It answers at most 100
// updates from the confirmed offset on, so while one hangs, only the 99
// after it can be handled meanwhile.
const inFlightRepoll = 500 * time.Millisecond

func (c *Channel) nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return c.opt.RetryBackoff
	}
	return min(2*d, maxPollBackoff)
}

// rawUpdate is one element of a getUpdates answer.
type rawUpdate struct {
	id  int64
	upd *models.Update // nil if the update could not be decoded
}

// pipeline tracks the updates polling has seen and not yet confirmed.
type pipeline struct {
	offset int64 // next offset to ask for: every update below it is consumed
	b      *batch
	wake   chan struct{} // a job of b finished
	// pending are the updates seen at or after offset, in update order:
	// getUpdates returns them oldest first, from offset on. byID holds the
	// same entries.
	pending []*pending
	byID    map[int64]*pending
	failed  bool // an update of b was not consumed
}

// pending is one update polling has seen: handed out (done set), or
// refused for a full queue and waiting for a later fetch (done nil).
type pending struct {
	id       int64
	done     <-chan bool
	finished bool
	ok       bool
}

func newPipeline() *pipeline {
	p := &pipeline{byID: map[int64]*pending{}, wake: make(chan struct{}, 1)}
	p.b = &batch{wake: p.wake}
	return p
}

// dispatchNew hands the updates of ups not yet handed out to their chats'
// queues, in order; those in flight are not dispatched again. full reports
// whether one was refused for a full queue (it and its chat's later
// updates then wait for a later fetch).
func (c *Channel) dispatchNew(d *dispatcher, p *pipeline, ups []rawUpdate) (full bool) {
	var refused map[int64]bool
	for _, u := range ups {
		if u.id < p.offset {
			continue
		}
		e := p.byID[u.id]
		if e == nil {
			// Telegram returns updates oldest first, so a new one comes
			// last; keep pending sorted whatever the order.
			e = &pending{id: u.id}
			i, _ := slices.BinarySearchFunc(p.pending, u.id, func(e *pending, id int64) int { return cmp.Compare(e.id, id) })
			p.pending = slices.Insert(p.pending, i, e)
			p.byID[u.id] = e
		}
		if e.done != nil {
			continue // in flight or finished
		}
		if u.upd == nil {
			done := make(chan bool, 1)
			done <- true
			e.done = done
			continue
		}
		chat := translate(u.upd, c.opt.DefaultLang).chat
		if refused[chat] {
			continue // per-chat order: not ahead of the refused one
		}
		done, isFull := c.dispatch(d, u.upd, p.b)
		if isFull {
			full = true
			if refused == nil {
				refused = map[int64]bool{}
			}
			refused[chat] = true
			continue
		}
		e.done = done
	}
	return full
}

// harvest records the updates that finished and moves offset past the
// longest prefix all consumed. It reports whether some update of the
// batch was not consumed.
func (p *pipeline) harvest() bool {
	for _, e := range p.pending {
		if e.finished || e.done == nil {
			continue
		}
		select {
		case ok := <-e.done:
			e.finished, e.ok = true, ok
			if !ok {
				p.failed = true
			}
		default:
		}
	}
	for len(p.pending) > 0 && p.pending[0].finished && p.pending[0].ok {
		e := p.pending[0]
		p.pending[0] = nil
		p.pending = p.pending[1:]
		delete(p.byID, e.id)
		p.offset = e.id + 1
	}
	return p.failed
}

// drain waits for every update in flight, moves offset past the consumed
// prefix and forgets the rest, to be fetched again; it starts a new batch.
func (p *pipeline) drain() {
	for _, e := range p.pending {
		if e.done != nil && !e.finished {
			e.ok, e.finished = <-e.done, true
		}
	}
	p.harvest()
	if len(p.pending) > 0 {
		p.offset = p.pending[0].id
	}
	p.pending = nil
	clear(p.byID)
	p.failed = false
	p.b = &batch{wake: p.wake}
}

// getUpdates calls the getUpdates method directly: the SDK's own poller
// confirms updates before they are handled.
func (c *Channel) getUpdates(ctx context.Context, offset int64, timeout time.Duration, limit int) ([]rawUpdate, error) {
	body, err := json.Marshal(map[string]any{
		"offset":          offset,
		"limit":           limit,
		"timeout":         int(timeout / time.Second),
		"allowed_updates": allowedUpdates,
	})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, timeout+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.opt.APIURL+"/bot"+c.token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, errors.New(c.redact(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.opt.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the token
		}
		return nil, fmt.Errorf("getUpdates: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("getUpdates: read answer: %w", err)
	}
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("getUpdates: HTTP %d: undecodable answer", resp.StatusCode)
	}
	if !r.OK {
		return nil, apiError(r.ErrorCode, r.Description, r.Parameters.RetryAfter)
	}
	ups := make([]rawUpdate, 0, len(r.Result))
	for _, raw := range r.Result {
		var head struct {
			ID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			c.log.Error("undecodable update skipped", c.errAttr(err))
			continue
		}
		u := new(models.Update)
		if err := json.Unmarshal(raw, u); err != nil {
			// Valid JSON the SDK's types reject: nothing we handle.
			c.log.Warn("update not decoded, ignored", "update", head.ID, c.errAttr(err))
			u = nil
		}
		ups = append(ups, rawUpdate{id: head.ID, upd: u})
	}
	return ups, nil
}

// apiError maps an error answer to the SDK's error values, as its own
// methods return them.
func apiError(code int, desc string, retryAfter int) error {
	switch code {
	case http.StatusTooManyRequests:
		return &tg.TooManyRequestsError{Message: fmt.Sprintf("%s, %s", tg.ErrorTooManyRequests, desc), RetryAfter: retryAfter}
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tg.ErrorUnauthorized, desc)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tg.ErrorNotFound, desc)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tg.ErrorConflict, desc)
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tg.ErrorForbidden, desc)
	case http.StatusBadRequest:
		return fmt.Errorf("%w, %s", tg.ErrorBadRequest, desc)
	}
	return fmt.Errorf("telegram error %d, %s", code, desc)
}

// deleteWebhook removes a webhook so getUpdates works, pending updates
// kept, and reports whether it did.
func (c *Channel) deleteWebhook(ctx context.Context) bool {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.api.DeleteWebhook(cctx, &tg.DeleteWebhookParams{}); err != nil {
		if ctx.Err() == nil {
			c.log.Warn("deleteWebhook", c.errAttr(err))
		}
		return false
	}
	c.log.Info("long polling: webhook deleted, once at start")
	return true
}
