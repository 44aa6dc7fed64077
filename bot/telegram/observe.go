package telegram

import (
	"context"
	"errors"
	"fmt"
	"time"

	tg "github.com/go-telegram/bot"
)

// Observer is told how sending goes, for metrics. The outbox calls it from
// its sending goroutines, so an implementation must be quick and safe for
// concurrent use. Options.Observer nil observes nothing.
type Observer interface {
	// Sent is called once per Bot API call the outbox makes to deliver a
	// reply: method is the Bot API method (sendMessage, editMessageText,
	// editMessageReplyMarkup, deleteMessage), result one of SendOK,
	// SendRetry, SendRateLimited, SendForbidden and SendError.
	Sent(method, result string)
	// Paused is called when Telegram answers 429: all sending pauses for
	// d, the retry_after it asked for (at least a second).
	Paused(d time.Duration)
	// Superseded is called for each screen (a reply with buttons) dropped
	// unsent because a newer screen for the same chat was queued behind
	// it; it is marked delivered.
	Superseded()
}

// The results Observer.Sent reports.
const (
	SendOK          = "ok"           // done (an edit that changed nothing too)
	SendRetry       = "retry"        // a 5xx or network error; it is tried again
	SendRateLimited = "rate_limited" // 429: tried again after the pause
	SendForbidden   = "forbidden"    // 403: the customer blocked the bot
	SendError       = "error"        // refused (400...), or failing at shutdown after MaxAttempts: left pending
)

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) Sent(string, string)  {}
func (nopObserver) Paused(time.Duration) {}
func (nopObserver) Superseded()          {}

// Backlog returns how many replies the channel holds for delivery (queued,
// being sent, or waiting out failures) and when the oldest of them was
// queued (zero if none). Replies left pending by an earlier run count from
// when Run queued them again at start.
func (c *Channel) Backlog() (n int, oldest time.Time) {
	o := c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, q := range o.chats {
		n += len(q.envs)
	}
	for _, at := range o.queued {
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	return n, oldest
}

// Ping calls getMe: it reports whether the Bot API answers and accepts the
// token. Errors never contain the token.
func (c *Channel) Ping(ctx context.Context) error {
	if _, err := c.api.GetMe(ctx); err != nil {
		return errors.New(c.redact(fmt.Sprintf("telegram: getMe: %v", err)))
	}
	return nil
}

// refusal is the Observer.Sent result of a call Telegram refused.
func refusal(st step, err error) string {
	switch {
	case errors.Is(err, tg.ErrorForbidden):
		return SendForbidden
	case (st.kind == stepEdit || st.kind == stepEditMarkup) && notModified(err):
		return SendOK // the message already reads so
	}
	return SendError
}
