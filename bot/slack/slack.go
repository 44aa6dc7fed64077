package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/slack-go/slack"

	"supportbot/bot"
	"supportbot/portal"
)

// channelName is the outbox channel this adapter drains.
const channelName = "slack"

// Engine is the part of *bot.Engine the adapter uses.
type Engine interface {
	Handle(ctx context.Context, in bot.Inbound) ([]bot.Envelope, error)
	Pending(ctx context.Context, channel string, after uint64, limit int) ([]bot.Envelope, error)
	Delivered(ctx context.Context, ids ...uint64) error
	Wake(channel string) <-chan struct{}
}

// Portal is the staff part of the backend (*portal.Client). StaffReply
// returns portal.ErrConflict for a closed ticket.
type Portal interface {
	StaffCustomers(ctx context.Context, q string) ([]portal.CustomerRecord, error)
	StaffReply(ctx context.Context, id, author, body string) (portal.Ticket, error)
	StaffAssign(ctx context.Context, id, assignee string) (portal.Ticket, error)
	StaffClose(ctx context.Context, id, author, resolution string) (portal.Ticket, error)
}

// KV is a durable key-value space (*store.KV) for ticket links and the
// seen set.
type KV interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Put(ctx context.Context, key string, val []byte) error
	Delete(ctx context.Context, key string) error
}

// Config wires an Adapter.
type Config struct {
	// BotToken (xoxb-) calls the Web API; AppToken (xapp-), if set,
	// selects Socket Mode.
	BotToken, AppToken string
	// SigningSecret and Listen select HTTP mode; APIURL, if set, replaces
	// Slack's Web API base URL (ending in "/").
	SigningSecret, Listen, APIURL string
	// Channels maps a department id to a channel ID; "default" takes
	// unknown departments.
	Channels map[string]string
	// Staff are the Slack user IDs allowed to act on tickets.
	Staff []string
	// Prefix marks a thread message meant for the customer (default ">>").
	Prefix string
	// Lang is the staff-facing language (default "en").
	Lang   string
	Bundle *i18n.Bundle
	Engine Engine
	Portal Portal
	KV     KV
	// Deliver hands the customer's replies to their channel.
	Deliver    func(envs ...bot.Envelope)
	HTTPClient *http.Client
	Log        *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Adapter connects the engine's Slack outbox and Slack's staff actions.
type Adapter struct {
	cfg   Config
	api   *slack.Client
	log   *slog.Logger
	loc   *i18n.Localizer
	staff map[string]bool
	now   func() time.Time

	namesMu  sync.Mutex
	names    map[string]string // Slack user ID → first name
	namesOff time.Time         // users.info unavailable until then
	selfMu   sync.Mutex
	selfID   string // the bot's own user ID, from auth.test or an event's authorizations

	busyMu sync.Mutex
	busy   map[string]bool // seen-set ids being handled
	seenMu sync.Mutex      // the seen index's read-modify-write

	locks bot.KeyLocks  // per ticket, for links and after-ack work
	slow  chan struct{} // bounds after-ack goroutines
	wg    sync.WaitGroup

	out outbox
}

// New checks cfg and returns an Adapter. It needs a bot token (xoxb-), an
// app token (xapp-) if any, a mode (AppToken, or SigningSecret and Listen),
// at least one channel, an Engine, a Portal, a KV and a Bundle.
func New(cfg Config) (*Adapter, error) {
	switch {
	case !strings.HasPrefix(cfg.BotToken, "xoxb-"):
		return nil, errors.New("slack: bot token must start with xoxb-")
	case cfg.AppToken != "" && !strings.HasPrefix(cfg.AppToken, "xapp-"):
		return nil, errors.New("slack: app token must start with xapp-")
	case cfg.AppToken == "" && (cfg.SigningSecret == "" || cfg.Listen == ""):
		return nil, errors.New("slack: set an app token (Socket Mode) or a signing secret and listen address (HTTP)")
	case len(cfg.Channels) == 0:
		return nil, errors.New("slack: no channels")
	case cfg.Engine == nil || cfg.Portal == nil || cfg.KV == nil || cfg.Bundle == nil:
		return nil, errors.New("slack: config needs an Engine, a Portal, a KV and a Bundle")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = ">>"
	}
	if cfg.Lang == "" {
		cfg.Lang = "en"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Deliver == nil {
		cfg.Deliver = func(...bot.Envelope) {}
	}
	a := &Adapter{
		cfg:   cfg,
		log:   cfg.Log.With("channel", channelName),
		loc:   i18n.NewLocalizer(cfg.Bundle, cfg.Lang),
		staff: map[string]bool{},
		now:   cfg.Now,
		names: map[string]string{},
		busy:  map[string]bool{},
		slow:  make(chan struct{}, 16),
	}
	for _, id := range cfg.Staff {
		a.staff[id] = true
	}
	opts := []slack.Option{slack.OptionHTTPClient(cfg.HTTPClient)}
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	a.api = slack.New(cfg.BotToken, opts...)
	a.out.init(a)
	return a, nil
}

// Run drains the Slack outbox and serves the chosen mode (Socket Mode if
// an app token is set, else HTTP) until ctx ends. It waits for the work
// started after acks before it returns.
func (a *Adapter) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	// Learn the bot's own user ID (best effort: auth.test may be missing).
	wg.Go(func() {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		defer acancel()
		_ = a.Ping(actx)
	})
	wg.Go(func() { a.out.run(ctx) })
	wg.Go(func() { a.sweep(ctx) })
	var err error
	if a.cfg.AppToken != "" {
		err = a.runSocket(ctx)
	} else {
		err = a.serveHTTP(ctx)
	}
	cancel()
	wg.Wait()
	a.wg.Wait()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// Ping checks the bot token with auth.test, for a readiness probe. It
// fails only when Slack cannot be reached or refuses the token
// (invalid_auth and the like); a Slack without auth.test (unknown_method,
// HTTP 404, missing_scope, …) counts as reachable.
func (a *Adapter) Ping(ctx context.Context) error {
	res, err := a.api.AuthTestContext(ctx)
	if err == nil {
		a.setSelf(res.UserID)
		return nil
	}
	if authFailure(err) || !slackAnswered(err) {
		return fmt.Errorf("slack auth.test: %w", err)
	}
	a.log.Debug("auth.test unavailable; Slack answered, so counted as ready", "err", err)
	return nil
}

// authFailure reports Slack's refusal of the token.
func authFailure(err error) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired":
			return true
		}
	}
	var sc slack.StatusCodeError
	return errors.As(err, &sc) && sc.Code == http.StatusUnauthorized
}

// methodMissing reports an answer meaning this Slack (or this token)
// cannot use the method at all: retrying will not help.
func methodMissing(err error) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "unknown_method", "missing_scope", "not_allowed_token_type", "no_permission",
			"method_deprecated", "not_implemented", "feature_not_enabled", "access_denied":
			return true
		}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		switch sc.Code {
		case http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusGone, http.StatusNotImplemented:
			return true
		}
	}
	return false
}

// slackAnswered reports an error that is an answer from the server (an
// error code, an HTTP status, a rate limit), not a network failure.
func slackAnswered(err error) bool {
	var se slack.SlackErrorResponse
	var sc slack.StatusCodeError
	var rl *slack.RateLimitedError
	return errors.As(err, &se) || errors.As(err, &sc) || errors.As(err, &rl)
}

func (a *Adapter) setSelf(id string) {
	if id == "" {
		return
	}
	a.selfMu.Lock()
	a.selfID = id
	a.selfMu.Unlock()
}

// isSelf reports whether user is the bot's own user.
func (a *Adapter) isSelf(user string) bool {
	a.selfMu.Lock()
	defer a.selfMu.Unlock()
	return user != "" && user == a.selfID
}

// UpdateID maps a Slack id (an event_id, a view id + "submit", an
// action_ts + user) to a stable negative update id for the engine, so it
// never collides with Telegram's positive ones.
func UpdateID(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	v := int64(h.Sum64() &^ (1 << 63))
	if v == 0 {
		v = 1
	}
	return -v
}

// isStaff reports whether a Slack user may act on tickets.
func (a *Adapter) isStaff(user string) bool { return a.staff[user] }

// text renders a staff-facing message.
func (a *Adapter) text(id string, data map[string]any) string {
	s, err := a.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		a.log.Error("staff message missing", "msg", id, "err", err)
		if s == "" {
			return id
		}
	}
	return s
}

// escape makes text safe inside Slack mrkdwn.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// --- durable records -------------------------------------------------------

// Ticket statuses in a link.
const (
	statusOpen   = "open"
	statusClosed = "closed"
)

// link is what the adapter remembers about a ticket.
type link struct {
	Ticket     string `json:"ticket"`
	Chat       string `json:"chat"`
	Lang       string `json:"lang,omitempty"`
	Name       string `json:"name,omitempty"`
	Email      string `json:"email,omitempty"`
	Department string `json:"department,omitempty"`
	Subject    string `json:"subject,omitempty"`
	Order      string `json:"order,omitempty"`
	Plan       string `json:"plan,omitempty"`
	// Description and Context are the root message's body, kept to redraw it.
	Description  string `json:"description,omitempty"`
	Context      string `json:"context,omitempty"`
	Channel      string `json:"channel,omitempty"`
	TS           string `json:"ts,omitempty"`
	Assignee     string `json:"assignee,omitempty"`
	AssigneeName string `json:"assignee_name,omitempty"`
	Status       string `json:"status,omitempty"`
	ClosedBy     string `json:"closed_by,omitempty"`
	Rating       string `json:"rating,omitempty"`
}

func linkKey(ticket string) string        { return "ticket/" + ticket }
func threadKey(channel, ts string) string { return "thread/" + channel + "/" + ts }

func (a *Adapter) loadLink(ctx context.Context, ticket string) (link, bool, error) {
	raw, ok, err := a.cfg.KV.Get(ctx, linkKey(ticket))
	if err != nil || !ok {
		return link{}, ok, err
	}
	var l link
	if err := json.Unmarshal(raw, &l); err != nil {
		return link{}, false, fmt.Errorf("decode link %s: %w", ticket, err)
	}
	return l, true, nil
}

func (a *Adapter) saveLink(ctx context.Context, l link) error {
	raw, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if err := a.cfg.KV.Put(ctx, linkKey(l.Ticket), raw); err != nil {
		return err
	}
	if l.Channel != "" && l.TS != "" {
		return a.cfg.KV.Put(ctx, threadKey(l.Channel, l.TS), []byte(l.Ticket))
	}
	return nil
}

// ticketOfThread returns the ticket whose root message is channel/ts.
func (a *Adapter) ticketOfThread(ctx context.Context, channel, ts string) (string, bool, error) {
	raw, ok, err := a.cfg.KV.Get(ctx, threadKey(channel, ts))
	return string(raw), ok, err
}

// --- seen set ----------------------------------------------------------------

const (
	seenTTL   = 24 * time.Hour
	seenIndex = "seen-index"
)

// begin claims a Slack delivery id: it returns false when the id was
// already applied or is being handled now. Call done(applied) when
// finished; applied records it in the durable seen set.
func (a *Adapter) begin(ctx context.Context, id string) (bool, func(applied bool)) {
	if id == "" {
		return true, func(bool) {}
	}
	a.busyMu.Lock()
	if a.busy[id] {
		a.busyMu.Unlock()
		return false, nil
	}
	a.busy[id] = true
	a.busyMu.Unlock()
	release := func() {
		a.busyMu.Lock()
		delete(a.busy, id)
		a.busyMu.Unlock()
	}
	_, seen, err := a.cfg.KV.Get(ctx, "seen/"+id)
	if err != nil {
		a.log.Error("read seen set", "err", err)
	}
	if seen {
		release()
		return false, nil
	}
	return true, func(applied bool) {
		defer release()
		if !applied {
			return
		}
		if err := a.markSeen(context.WithoutCancel(ctx), id); err != nil {
			a.log.Error("write seen set", "err", err)
		}
	}
}

func (a *Adapter) markSeen(ctx context.Context, id string) error {
	now := a.now().UTC()
	if err := a.cfg.KV.Put(ctx, "seen/"+id, []byte(now.Format(time.RFC3339))); err != nil {
		return err
	}
	a.seenMu.Lock()
	defer a.seenMu.Unlock()
	idx, err := a.loadSeenIndex(ctx)
	if err != nil {
		return err
	}
	idx[id] = now
	return a.saveSeenIndex(ctx, idx)
}

func (a *Adapter) loadSeenIndex(ctx context.Context) (map[string]time.Time, error) {
	idx := map[string]time.Time{}
	raw, ok, err := a.cfg.KV.Get(ctx, seenIndex)
	if err != nil || !ok {
		return idx, err
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		a.log.Warn("seen index unreadable; starting afresh", "err", err)
		return map[string]time.Time{}, nil
	}
	return idx, nil
}

func (a *Adapter) saveSeenIndex(ctx context.Context, idx map[string]time.Time) error {
	raw, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return a.cfg.KV.Put(ctx, seenIndex, raw)
}

// sweep forgets seen ids older than a day, hourly.
func (a *Adapter) sweep(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := a.sweepSeen(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("sweep seen set", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Adapter) sweepSeen(ctx context.Context) error {
	a.seenMu.Lock()
	defer a.seenMu.Unlock()
	idx, err := a.loadSeenIndex(ctx)
	if err != nil {
		return err
	}
	cut := a.now().Add(-seenTTL)
	var old []string
	for id, at := range idx {
		if at.Before(cut) {
			old = append(old, id)
		}
	}
	if len(old) == 0 {
		return nil
	}
	slices.Sort(old)
	for _, id := range old {
		if err := a.cfg.KV.Delete(ctx, "seen/"+id); err != nil {
			return err
		}
		delete(idx, id)
	}
	return a.saveSeenIndex(ctx, idx)
}

// --- small helpers -------------------------------------------------------------

// later runs slow Slack work after an ack, bounded and in order per key.
func (a *Adapter) later(key string, fn func(ctx context.Context)) {
	if fn == nil {
		return
	}
	a.wg.Go(func() {
		a.slow <- struct{}{}
		defer func() { <-a.slow }()
		if key != "" {
			defer a.locks.Lock("later/" + key)()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("panic in slack work", "panic", r)
			}
		}()
		fn(ctx)
	})
}

// usersInfoTimeout bounds users.info so a slow or missing method never
// holds up a reply; usersInfoPause is how long a Slack without
// users.info (unknown_method, missing_scope, 404) is not asked again.
const (
	usersInfoTimeout = time.Second
	usersInfoPause   = 10 * time.Minute
)

// firstName returns a user's first name for the customer: users.info's
// profile first name, else the first word of the real name, else
// fallback (the payload's user name), else the user ID. A found name is
// cached in memory; when users.info fails the fallback is used at once.
func (a *Adapter) firstName(ctx context.Context, user, fallback string) string {
	named := strings.TrimSpace(fallback)
	fallback = firstNonEmpty(named, user)
	a.namesMu.Lock()
	n, ok := a.names[user]
	off := a.now().Before(a.namesOff)
	a.namesMu.Unlock()
	if ok {
		return n
	}
	if off || user == "" {
		return fallback
	}
	uctx, cancel := context.WithTimeout(ctx, usersInfoTimeout)
	u, err := a.api.GetUserInfoContext(uctx, user)
	cancel()
	if err != nil {
		a.log.Warn("users.info failed; using the payload's name", "user", user, "err", err)
		if methodMissing(err) {
			a.namesMu.Lock()
			a.namesOff = a.now().Add(usersInfoPause)
			a.namesMu.Unlock()
		}
		return fallback
	}
	switch {
	case strings.TrimSpace(u.Profile.FirstName) != "":
		n = strings.TrimSpace(u.Profile.FirstName)
	case strings.TrimSpace(u.RealName) != "":
		n = strings.Fields(u.RealName)[0]
	case strings.TrimSpace(u.Profile.RealName) != "":
		n = strings.Fields(u.Profile.RealName)[0]
	case named != "":
		n = named
	default:
		n = firstNonEmpty(u.Name, user)
	}
	a.namesMu.Lock()
	a.names[user] = n
	a.namesMu.Unlock()
	return n
}
