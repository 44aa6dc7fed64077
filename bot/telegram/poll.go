package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
// is confirmed (by asking for a later offset) only once it was consumed;
// the first update whose Handle failed is fetched again, with everything
// after it.
func (c *Channel) poll(ctx context.Context, d *dispatcher) error {
	// getUpdates answers 409 while a webhook is set: delete it once, here
	// (and again on a 409 only until that has succeeded).
	webhookDeleted := c.deleteWebhook(ctx)
	var offset, asked int64
	var backoff time.Duration
	for ctx.Err() == nil {
		if backoff > 0 && !sleep(ctx, backoff) {
			break
		}
		ups, err := c.getUpdates(ctx, offset, c.opt.PollTimeout, 100)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var tooMany *tg.TooManyRequestsError
			switch {
			case errors.Is(err, tg.ErrorUnauthorized), errors.Is(err, tg.ErrorNotFound):
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
		asked = offset // confirmed: Telegram answered
		if len(ups) == 0 {
			backoff = 0
			continue
		}
		next, ok := c.runBatch(d, ups)
		offset = next
		if ok {
			backoff = 0
		} else {
			backoff = c.nextBackoff(backoff)
		}
	}
	if offset != asked {
		// Confirm what was consumed since the last poll; updates the
		// call returns stay unconfirmed for the next start.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := c.getUpdates(cctx, offset, 0, 1); err != nil {
			c.log.Warn("confirm updates at shutdown", c.errAttr(err))
		}
	}
	return nil
}

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

// runBatch handles one getUpdates answer and waits for it. It returns the
// next offset: past the last update, or at the first one not consumed.
func (c *Channel) runBatch(d *dispatcher, ups []rawUpdate) (next int64, ok bool) {
	b := &batch{}
	dones := make([]<-chan bool, len(ups))
	for i, u := range ups {
		if u.upd == nil {
			done := make(chan bool, 1)
			done <- true
			dones[i] = done
			continue
		}
		dones[i], _ = c.dispatch(d, u.upd, b) // full: not consumed, fetched again
	}
	next, ok = ups[len(ups)-1].id+1, true
	for i, done := range dones {
		if !<-done && ok {
			next, ok = ups[i].id, false
		}
	}
	return next, ok
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
