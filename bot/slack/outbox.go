package slack

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"supportbot/bot"
)

const (
	// pendingPage is how many envelopes a pass reads at a time.
	pendingPage = 100
	// pollEvery is the safety-net interval between passes.
	pollEvery = 2 * time.Second
	// backoffBase and backoffCap bound the wait before a ticket's next try.
	backoffBase = 250 * time.Millisecond
	backoffCap  = time.Minute
	// metaType marks the messages the adapter posts, with the envelope id.
	metaType = "supportbot_envelope"
)

// Envelope events from the customer's flows.
const (
	evNew     = "ticket.new"
	evMessage = "ticket.message"
	evLive    = "ticket.live"
	evLeft    = "ticket.left"
	evRating  = "ticket.rating"
)

// outbox posts the engine's Slack envelopes, in ID order per ticket.
type outbox struct {
	a     *Adapter
	mu    sync.Mutex
	retry map[string]retryState // ticket → when to try again
}

type retryState struct {
	attempts int
	next     time.Time
}

func (o *outbox) init(a *Adapter) {
	o.a = a
	o.retry = map[string]retryState{}
}

// run passes over the pending envelopes on start, on every wake-up, on
// a ticker and when a ticket's backoff ends, until ctx ends.
func (o *outbox) run(ctx context.Context) {
	wake := o.a.cfg.Engine.Wake(channelName)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		next := o.pass(ctx)
		var timer <-chan time.Time
		var t *time.Timer
		if !next.IsZero() {
			t = time.NewTimer(max(time.Until(next), time.Millisecond))
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-tick.C:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// pass delivers what is pending; a ticket whose envelope fails waits for
// its backoff, and its later envelopes wait behind it. It returns the
// earliest time a ticket may be tried again (zero if none waits).
func (o *outbox) pass(ctx context.Context) time.Time {
	blocked := map[string]bool{}
	var after uint64
	for ctx.Err() == nil {
		envs, err := o.a.cfg.Engine.Pending(ctx, channelName, after, pendingPage)
		if err != nil {
			if ctx.Err() == nil {
				o.a.log.Error("read slack outbox", "err", err)
			}
			break
		}
		for _, env := range envs {
			if ctx.Err() != nil {
				break
			}
			ticket := ticketOf(env)
			if blocked[ticket] || o.waiting(ticket) {
				blocked[ticket] = true
				continue
			}
			err := o.deliver(ctx, env)
			var refused *refusedError
			var dropped *droppedError
			switch {
			case err == nil:
			case errors.As(err, &refused):
				o.a.log.Error("slack refused the message; dropped", "ticket", ticket, "chat", env.Key, "id", env.ID, "err", err)
			case errors.As(err, &dropped):
				o.a.log.Warn("slack post may have failed and cannot be checked; not re-posted (at most once)",
					"ticket", ticket, "chat", env.Key, "id", env.ID, "err", err)
			case ctx.Err() != nil:
				return time.Time{}
			default:
				blocked[ticket] = true
				d := o.backoff(ticket, retryAfter(err))
				o.a.log.Warn("slack post failed; will retry", "ticket", ticket, "chat", env.Key, "id", env.ID, "retry_in", d, "err", err)
				continue
			}
			o.mu.Lock()
			delete(o.retry, ticket)
			o.mu.Unlock()
			if err := o.a.cfg.Engine.Delivered(context.WithoutCancel(ctx), env.ID); err != nil {
				o.a.log.Error("mark delivered", "chat", env.Key, "id", env.ID, "err", err)
			}
		}
		if len(envs) < pendingPage {
			break
		}
		after = envs[len(envs)-1].ID
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var next time.Time
	for _, st := range o.retry {
		if next.IsZero() || st.next.Before(next) {
			next = st.next
		}
	}
	return next
}

func ticketOf(env bot.Envelope) string {
	if t := env.Reply.Vars["ticket"]; t != "" {
		return t
	}
	return strings.TrimPrefix(env.Key, channelName+":")
}

func (o *outbox) waiting(ticket string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	st, ok := o.retry[ticket]
	return ok && time.Now().Before(st.next)
}

// backoff records a failure for ticket and returns the wait: capped
// exponential with jitter, and at least atLeast (a Retry-After).
func (o *outbox) backoff(ticket string, atLeast time.Duration) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	st := o.retry[ticket]
	d := backoffBase << min(st.attempts, 10)
	d = min(d, backoffCap)
	d = d/2 + rand.N(d/2+1)
	d = max(d, min(atLeast, 10*time.Minute))
	st.attempts++
	st.next = time.Now().Add(d)
	o.retry[ticket] = st
	return d
}

// deliver makes one envelope's Slack effect and updates the ticket's link.
func (o *outbox) deliver(ctx context.Context, env bot.Envelope) error {
	a := o.a
	vars := env.Reply.Vars
	ticket := ticketOf(env)
	l, err := a.updateLink(ctx, ticket, func(l *link) {
		l.Ticket = ticket
		set := func(dst *string, key string) {
			if v := strings.TrimSpace(vars[key]); v != "" {
				*dst = v
			}
		}
		set(&l.Chat, "chat")
		set(&l.Lang, "lang")
		if l.Lang == "" {
			l.Lang = env.Lang
		}
		set(&l.Name, "name")
		set(&l.Email, "email")
		set(&l.Department, "department")
		set(&l.Subject, "subject")
		if l.Status == "" {
			l.Status = statusOpen
		}
		if l.Channel == "" {
			l.Channel = a.channelFor(l.Department)
		}
	})
	if err != nil {
		return err
	}
	event := vars["event"]
	if event == evNew && l.TS != "" {
		return nil // posted already (a duplicate envelope)
	}
	if l.TS == "" {
		desc := ""
		marker := fmt.Sprint(env.ID)
		if event == evNew {
			desc = env.Reply.Text
		} else {
			marker += "/root"
		}
		ctxText := a.customerContext(ctx, l.Email)
		l, err = a.updateLink(ctx, ticket, func(l *link) {
			if event == evNew {
				l.Description = desc
			}
			l.Context = ctxText
			l.Order, l.Plan = firstNonEmpty(vars["order"], l.Order), firstNonEmpty(vars["plan"], l.Plan)
		})
		if err != nil {
			return err
		}
		text, blocks := a.rootMessage(l)
		ts, err := o.postOnce(ctx, marker, l.Channel, "", text, slack.MsgOptionBlocks(blocks...))
		if err != nil {
			return err
		}
		if l, err = a.updateLink(ctx, ticket, func(l *link) { l.TS = ts }); err != nil {
			return err
		}
		if event == evNew {
			return nil
		}
	}
	var note string
	name := escape(firstNonEmpty(vars["name"], l.Name))
	switch event {
	case evMessage:
		note = a.text("staff.thread.message", map[string]any{"Name": name, "Text": escape(env.Reply.Text)})
	case evLive:
		note = a.text("staff.thread.live", map[string]any{"Name": name})
		if l.Assignee != "" {
			note += " <@" + l.Assignee + ">" // the claimer is pinged
		}
		if t := strings.TrimSpace(env.Reply.Text); t != "" {
			note += "\n" + quote(escape(t))
		}
	case evLeft:
		note = a.text("staff.thread.left", map[string]any{"Name": name})
	case evRating:
		r := vars["rating"]
		note = a.text("staff.thread.rating", map[string]any{"Rating": r, "Stars": stars(r)})
		if _, err := a.updateLink(ctx, ticket, func(l *link) { l.Rating = r }); err != nil {
			return err
		}
	default:
		if strings.TrimSpace(env.Reply.Text) == "" {
			a.log.Warn("slack envelope with an unknown event ignored", "chat", env.Key, "event", event)
			return nil
		}
		note = escape(env.Reply.Text)
	}
	_, err = o.postOnce(ctx, fmt.Sprint(env.ID), l.Channel, l.TS, note)
	return err
}

// refusedError is Slack's definite refusal of a message (a bad channel,
// invalid blocks): retrying will not help.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// droppedError is a message whose post may or may not have taken effect,
// with no way to find out (no conversations.replies/history, or the check
// kept failing for checkGiveUp): it is not posted again, so it appears at
// most once.
type droppedError struct{ err error }

func (e *droppedError) Error() string { return e.err.Error() }
func (e *droppedError) Unwrap() error { return e.err }

// notPostedError is a post Slack surely did not apply (rate limited):
// try again after `after`.
type notPostedError struct {
	err   error
	after time.Duration
}

func (e *notPostedError) Error() string { return e.err.Error() }
func (e *notPostedError) Unwrap() error { return e.err }

func retryAfter(err error) time.Duration {
	var np *notPostedError
	if errors.As(err, &np) {
		return np.after
	}
	return 0
}

const (
	// checkGiveUp is how long after a post attempt a failing "did it
	// post?" check is retried before the message is given up as
	// possibly posted.
	checkGiveUp = 30 * time.Minute
	// inlineRateWaits and maxInlineWait bound the Retry-After waits made
	// inside one post (longer ones wait in the ticket's backoff, so the
	// other tickets go on).
	inlineRateWaits = 2
	maxInlineWait   = 3 * time.Second
)

// postOnce posts text in a message carrying marker in its metadata, at
// most once:
//   - a failure Slack surely did not apply (429, an error code such as
//     ratelimited, a refused connection) is retried: after Retry-After
//     inline if short, else on the next pass;
//   - after an ambiguous failure (5xx, timeout, internal_error) or a
//     restart mid-post, it looks for the marker (conversations.replies or
//     history) before posting again;
//   - when it cannot look (the method is missing: unknown_method, 404,
//     missing_scope, not_allowed_token_type…, or the check keeps failing
//     for checkGiveUp) it does not post again: a *droppedError.
//
// It returns the message's ts.
func (o *outbox) postOnce(ctx context.Context, marker, channel, threadTS, text string, opts ...slack.MsgOption) (string, error) {
	a := o.a
	attemptKey := "attempt/" + marker
	raw, attempted, err := a.cfg.KV.Get(ctx, attemptKey)
	if err != nil {
		return "", err
	}
	if attempted {
		ts, found, err := o.find(ctx, marker, text, channel, threadTS)
		switch {
		case err == nil && found:
			return ts, o.forget(ctx, attemptKey)
		case err == nil: // not there: post it again
		case ctx.Err() != nil:
			return "", ctx.Err()
		case retryable(err) && a.now().Sub(attemptTime(raw)) < checkGiveUp:
			return "", fmt.Errorf("look for message %s: %w", marker, err)
		default:
			o.forget(ctx, attemptKey)
			return "", &droppedError{fmt.Errorf("message %s may have been posted; cannot check: %w", marker, err)}
		}
	}
	if err := a.cfg.KV.Put(ctx, attemptKey, []byte(a.now().UTC().Format(time.RFC3339))); err != nil {
		return "", err
	}
	opts = append([]slack.MsgOption{slack.MsgOptionText(text, false)}, opts...)
	opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{
		EventType:    metaType,
		EventPayload: map[string]any{"envelope": marker},
	}))
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	for try := 0; ; try++ {
		_, ts, err := a.api.PostMessageContext(ctx, channel, opts...)
		if err == nil {
			return ts, o.forget(ctx, attemptKey)
		}
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			if try < inlineRateWaits && rl.RetryAfter <= maxInlineWait {
				a.log.Info("slack rate limit; waiting", "method", "chat.postMessage", "retry_after", rl.RetryAfter)
				t := time.NewTimer(max(rl.RetryAfter, 100*time.Millisecond))
				select {
				case <-ctx.Done():
					t.Stop()
					o.forget(ctx, attemptKey)
					return "", ctx.Err()
				case <-t.C:
				}
				continue
			}
			o.forget(ctx, attemptKey)
			return "", &notPostedError{fmt.Errorf("post: %w", err), rl.RetryAfter}
		}
		if notApplied(err) {
			o.forget(ctx, attemptKey) // nothing to look for next time
			return "", &notPostedError{fmt.Errorf("post: %w", err), 0}
		}
		if refused(err) {
			o.forget(ctx, attemptKey)
			return "", &refusedError{err}
		}
		if ctx.Err() != nil {
			return "", ctx.Err() // the attempt stays: the next start looks first
		}
		// Ambiguous: the message may have been posted.
		ts, found, ferr := o.find(ctx, marker, text, channel, threadTS)
		switch {
		case ferr == nil && found:
			return ts, o.forget(ctx, attemptKey)
		case ferr == nil:
			return "", fmt.Errorf("post: %w", err) // not there: the next pass posts again
		case ctx.Err() != nil:
			return "", ctx.Err()
		case retryable(ferr):
			return "", fmt.Errorf("post: %w; look for it: %v", err, ferr)
		default:
			o.forget(ctx, attemptKey)
			return "", &droppedError{fmt.Errorf("post: %w; cannot look for it: %v", err, ferr)}
		}
	}
}

// attemptTime reads an attempt record's time (zero if unreadable).
func attemptTime(raw []byte) time.Time {
	t, _ := time.Parse(time.RFC3339, strings.TrimSpace(string(raw)))
	return t
}

func (o *outbox) forget(ctx context.Context, key string) error {
	return o.a.cfg.KV.Delete(context.WithoutCancel(ctx), key)
}

// transient lists Slack error codes that are worth another try.
func transient(code string) bool {
	switch code {
	case "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
		"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired":
		return true
	}
	return false
}

// notApplied reports a failed post that Slack surely did not apply: the
// request never reached it, it was rate limited, or Slack answered an
// error code that is worth another try but means "not done".
func notApplied(err error) bool {
	if notSent(err) {
		return true
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return sc.Code == http.StatusTooManyRequests || sc.Code == http.StatusRequestTimeout || sc.Code == http.StatusUnauthorized
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		// internal_error and fatal_error may have applied part of the call.
		return transient(se.Err) && se.Err != "internal_error" && se.Err != "fatal_error"
	}
	return false
}

// refused reports Slack's definite refusal of a post: an error code not
// worth another try, or an HTTP 4xx.
func refused(err error) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return !transient(se.Err)
	}
	var sc slack.StatusCodeError
	return errors.As(err, &sc) && sc.Code >= 400 && sc.Code < 500
}

// retryable reports a failed call worth trying again later: a network
// failure, a rate limit, a 5xx or a transient error code. Anything else
// (unknown_method, missing_scope, 404, …) will not get better.
func retryable(err error) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return transient(se.Err)
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return true
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return sc.Code == http.StatusTooManyRequests || sc.Code == http.StatusRequestTimeout ||
			(sc.Code >= 500 && sc.Code != http.StatusNotImplemented)
	}
	return true // a network or decoding failure
}

// notSent reports an error from before the request reached Slack (the
// connection was refused or the name did not resolve): safe to retry.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// find looks for the message carrying marker in the thread (threadTS set)
// or in the channel's recent history. If no message there carries our
// metadata at all (a Slack that drops it), it matches the bot's own
// message with the same text instead.
func (o *outbox) find(ctx context.Context, marker, text, channel, threadTS string) (string, bool, error) {
	var msgs []slack.Message
	if threadTS != "" {
		cursor := ""
		for range 20 {
			page, more, next, err := o.a.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: channel, Timestamp: threadTS, Cursor: cursor, Limit: 200, IncludeAllMetadata: true,
			})
			if err != nil {
				return "", false, err
			}
			msgs = append(msgs, page...)
			if !more || next == "" {
				break
			}
			cursor = next
		}
	} else {
		h, err := o.a.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Limit: 200, IncludeAllMetadata: true,
		})
		if err != nil {
			return "", false, err
		}
		msgs = h.Messages
	}
	withMeta := false
	for _, m := range msgs {
		if m.Metadata.EventType == metaType {
			withMeta = true
			if fmt.Sprint(m.Metadata.EventPayload["envelope"]) == marker {
				return m.Timestamp, true, nil
			}
		}
	}
	if !withMeta && text != "" {
		for _, m := range msgs {
			if m.Text == text && (m.BotID != "" || m.SubType == "bot_message" || o.a.isSelf(m.User)) {
				return m.Timestamp, true, nil
			}
		}
	}
	return "", false, nil
}

// channelFor returns the department's channel: Channels[dept], else
// Channels["default"], else the first channel by department id.
func (a *Adapter) channelFor(dept string) string {
	if c := a.cfg.Channels[dept]; c != "" {
		return c
	}
	if c := a.cfg.Channels["default"]; c != "" {
		a.log.Warn("no channel for department; using the default", "department", dept)
		return c
	}
	keys := make([]string, 0, len(a.cfg.Channels))
	for k := range a.cfg.Channels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	a.log.Warn("no channel for department; using the first", "department", dept, "used", keys[0])
	return a.cfg.Channels[keys[0]]
}

// updateLink loads a ticket's link, applies fn and saves it, serialised
// per ticket.
func (a *Adapter) updateLink(ctx context.Context, ticket string, fn func(*link)) (link, error) {
	defer a.locks.Lock("link/" + ticket)()
	l, _, err := a.loadLink(ctx, ticket)
	if err != nil {
		return link{}, err
	}
	l.Ticket = ticket
	fn(&l)
	return l, a.saveLink(ctx, l)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func quote(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

func stars(r string) string {
	n := 0
	fmt.Sscan(r, &n)
	n = min(max(n, 0), 5)
	return strings.Repeat("★", n) + strings.Repeat("☆", 5-n)
}
