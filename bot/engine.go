package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// Config wires an Engine.
type Config struct {
	Store  Store
	Bundle *i18n.Bundle
	// Flows are the customer journeys, in main-menu order. A flow named
	// "login" is required when any state sets Auth.
	Flows []Flow
	// DefaultLang is used when neither the customer nor the platform chose
	// one (default "en").
	DefaultLang string
	// IdleTimeout ends a flow left untouched this long (default 30 min).
	IdleTimeout time.Duration
	// UpdateTimeout bounds the backend calls of one update (default 15 s).
	UpdateTimeout time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
	// OnMissing, if set, is called for every missing translation or template
	// field; tests fail on it.
	OnMissing func(error)
	// Observer, if set, is told about updates, duplicates, flows started
	// and ended, and how long each update took (for metrics).
	Observer Observer
	// Signals name the flow that takes an Inbound.Event the active flow's
	// own Signals do not handle: it starts on top of the flow stack with
	// the event's Vars, so the journey below goes on when it ends (a staff
	// reply shown to a customer who is changing their SIM).
	Signals map[string]string
	// Human, if set, is a command ("human") offered as a button wherever
	// the bot reaches a dead end it cannot solve: a backend error, too
	// many attempts.
	Human string
}

// Engine handles customer updates: it serialises them per conversation,
// drops redelivered ones, runs global commands and flows, renders replies
// and commits everything in one store transaction.
type Engine struct {
	store         Store
	flows         map[string]*Flow
	order         []*Flow
	localizers    map[string]*i18n.Localizer
	langs         []string
	defaultLang   string
	idle          time.Duration
	updateTimeout time.Duration
	now           func() time.Time
	log           *slog.Logger
	onMissing     func(error)
	obs           Observer
	locks         KeyLocks
	signals       map[string]string
	human         string

	wakeMu sync.Mutex
	wake   map[string]chan struct{}

	// plain caches the messages rendered without data or count (buttons,
	// prompts), by staticKey: their text never changes.
	plain sync.Map
}

// staticKey is the plain cache's key of message id in lang.
type staticKey struct{ lang, id string }

// engineMsgs are the message IDs the engine itself renders.
var engineMsgs = []string{
	"menu.prompt", "menu.prompt_member", "menu.language", "menu.help",
	"common.welcome", "common.expired", "common.stale", "common.unknown",
	"common.unknown_command", "common.use_buttons", "common.stale_step", "common.cancelled",
	"common.resume", "common.idle_kept", "common.btn.continue", "common.did_you_mean",
	"common.too_many_attempts", "common.card_warning", "common.unsupported", "common.edited",
	"common.btn.back", "common.btn.cancel", "common.btn.menu", "common.btn.retry", "common.btn.human",
	"common.btn.prev", "common.btn.next", "common.date", "common.datetime",
	"help.text", "language.prompt", "language.set", "language.name.en", "language.name.he",
	"error.internal", "login.expired",
	"cmd.start", "cmd.menu", "cmd.back", "cmd.cancel", "cmd.language", "cmd.help",
}

// New checks the flows and the translations and returns an Engine. It
// returns an error for a flow with a dangling or unreachable state, a
// duplicate name, callback data over 64 bytes, or a message ID missing in
// any language of the bundle.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.Bundle == nil {
		return nil, errors.New("bot: config needs a Store and a Bundle")
	}
	e := &Engine{
		store:         cfg.Store,
		flows:         map[string]*Flow{},
		localizers:    map[string]*i18n.Localizer{},
		defaultLang:   cfg.DefaultLang,
		idle:          cfg.IdleTimeout,
		updateTimeout: cfg.UpdateTimeout,
		now:           cfg.Now,
		log:           cfg.Logger,
		onMissing:     cfg.OnMissing,
		obs:           cfg.Observer,
		signals:       cfg.Signals,
		human:         cfg.Human,
	}
	if e.obs == nil {
		e.obs = nopObserver{}
	}
	if e.defaultLang == "" {
		e.defaultLang = "en"
	}
	if e.idle <= 0 {
		e.idle = 30 * time.Minute
	}
	if e.updateTimeout <= 0 {
		e.updateTimeout = 15 * time.Second
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, tag := range cfg.Bundle.LanguageTags() {
		l := tag.String()
		e.langs = append(e.langs, l)
		e.localizers[l] = i18n.NewLocalizer(cfg.Bundle, l)
	}
	if e.localizers[e.defaultLang] == nil {
		return nil, fmt.Errorf("bot: default language %q has no messages", e.defaultLang)
	}
	ids := slices.Clone(engineMsgs)
	for i := 1; i <= 12; i++ {
		ids = append(ids, "common.month."+strconv.Itoa(i))
	}
	needLogin := false
	for i := range cfg.Flows {
		f := &cfg.Flows[i]
		if err := f.compile(); err != nil {
			return nil, err
		}
		if e.flows[f.Name] != nil {
			return nil, fmt.Errorf("bot: duplicate flow %s", f.Name)
		}
		e.flows[f.Name] = f
		e.order = append(e.order, f)
		ids = append(ids, f.messageIDs()...)
		for _, s := range f.States {
			needLogin = needLogin || s.Auth
		}
		if f.Command != "" {
			ids = append(ids, "cmd."+f.Command)
		}
	}
	for ev, flow := range e.signals {
		if e.flows[flow] == nil {
			return nil, fmt.Errorf("bot: signal %s names unknown flow %q", ev, flow)
		}
	}
	if needLogin && e.flows[loginFlow] == nil {
		return nil, errors.New("bot: a state needs login but there is no login flow")
	}
	var missing []string
	for _, l := range e.langs {
		for _, id := range ids {
			_, err := e.localizers[l].Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: 2})
			var nf *i18n.MessageNotFoundErr
			if errors.As(err, &nf) {
				missing = append(missing, l+":"+id)
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("bot: messages missing: %s", strings.Join(missing, ", "))
	}
	return e, nil
}

// Commands returns the slash commands with descriptions in lang ("" for the
// default language), for a platform's command menu.
func (e *Engine) Commands(lang string) []Command {
	if lang == "" {
		lang = e.defaultLang
	}
	names := []string{cmdStart, cmdMenu}
	for _, f := range e.order {
		if f.Command != "" {
			names = append(names, f.Command)
		}
	}
	names = append(names, cmdBack, cmdCancel, cmdLang, cmdHelp)
	cmds := make([]Command, 0, len(names))
	for _, n := range names {
		cmds = append(cmds, Command{Name: n, Description: e.render(lang, "cmd."+n, nil, nil)})
	}
	return cmds
}

// Handle runs one inbound update and returns the replies it committed, in
// order, for the channel to deliver (then mark with Delivered). Updates for
// one conversation run strictly one at a time; a redelivered UpdateID
// returns no replies and changes nothing. Internal failures are logged here,
// once, and answered with the generic error message; an error is returned
// only when nothing could be committed.
//
// With a replicated store, a session another replica changed meanwhile
// (ErrConflict) is loaded again and the update handled afresh, a few
// times; ErrFenced is returned as it is: this replica must stop.
func (e *Engine) Handle(ctx context.Context, in Inbound) ([]Envelope, error) {
	unlock := e.locks.Lock(in.Key)
	defer unlock()
	for attempt := 1; ; attempt++ {
		envs, err := e.handle(ctx, in)
		if !errors.Is(err, ErrConflict) || attempt == maxConflicts {
			return envs, err
		}
		e.updateLogger(in).Info("session changed by another replica; handling the update again", "attempt", attempt)
	}
}

// maxConflicts bounds how often one update is handled again after
// ErrConflict.
const maxConflicts = 3

// handle is one attempt of Handle, under the conversation's lock.
func (e *Engine) handle(ctx context.Context, in Inbound) ([]Envelope, error) {
	began := time.Now()
	channel := channelOf(in.Key)
	e.obs.Update(channel, updateKind(in))
	log := e.updateLogger(in)

	if in.UpdateID != 0 {
		seen, err := e.store.Handled(ctx, in.Key, in.UpdateID)
		if err != nil {
			return nil, fmt.Errorf("check update %d: %w", in.UpdateID, err)
		}
		if seen {
			e.obs.Duplicate(channel)
			return nil, nil
		}
	}
	defer func() { e.obs.Handled(time.Since(began)) }()
	sess, err := e.load(ctx, in.Key)
	fresh := errors.Is(err, ErrUnreadable)
	switch {
	case fresh:
		log.Warn("session unreadable; starting afresh", "err", err)
	case err != nil:
		return nil, err
	}

	if in.LangHint != "" {
		sess.Hint = in.LangHint
	}
	r := &run{e: e, in: in, sess: &sess, now: e.now(), log: log}
	r.lang = e.langFor(&sess, in.LangHint)
	if fresh {
		r.say("common.expired", nil)
	}
	uctx, cancel := context.WithTimeout(ctx, e.updateTimeout)
	err = r.handle(uctx)
	cancel()
	if err != nil {
		attrs := []any{"err", err}
		if fr := sess.Top(); fr != nil {
			attrs = append(attrs, "flow", fr.Flow, "state", fr.State)
		}
		log.Error("handle update", attrs...)
		// The session as it was: read again rather than copied before
		// every update for the rare one that fails.
		rev := sess.Rev
		// Not ctx: the failure may be that it ran out, and the error
		// reply, the deletions and the handled id must still be committed.
		if sess, err = e.load(context.WithoutCancel(ctx), in.Key); err != nil && !errors.Is(err, ErrUnreadable) {
			return nil, fmt.Errorf("restore session: %w", err)
		}
		sess.Rev = rev
		// Keep the deletions (a password, a card number): they must
		// happen whatever went wrong.
		outs := []out{}
		for _, o := range r.outs {
			if o.del != 0 {
				outs = append(outs, o)
			}
		}
		r.outs = append(outs, out{id: "error.internal", buttons: [][]btn{{{label: "common.btn.menu", data: dataMenu}}}})
		r.flowEvents = nil // the session is as it was: no flow moved
	}
	sess.Key = in.Key
	sess.Updated = r.now
	sess.dropSecrets()
	envs, err := e.commit(ctx, Commit{Session: sess, UpdateID: in.UpdateID, Replies: r.render(), Lang: r.lang}, r.flowEvents...)
	for i := range envs {
		envs[i].UpdateID = in.UpdateID
	}
	if err == nil && log.Enabled(ctx, slog.LevelDebug) {
		attrs := []any{"replies", len(envs)}
		if fr := sess.Top(); fr != nil {
			attrs = append(attrs, "flow", fr.Flow, "state", fr.State)
		}
		log.Debug("update handled", attrs...)
	}
	return envs, err
}

// load reads key's session, a new one if none is stored. If what is
// stored is unreadable, it returns a new session that replaces it, and an
// error wrapping ErrUnreadable.
func (e *Engine) load(ctx context.Context, key string) (Session, error) {
	sess, ok, err := e.store.Load(ctx, key)
	switch {
	case errors.Is(err, ErrUnreadable):
		return Session{Key: key, Rev: sess.Rev}, err // replace what is stored
	case err != nil:
		return Session{}, fmt.Errorf("load session %s: %w", key, err)
	case !ok:
		return Session{Key: key}, nil
	}
	return sess, nil
}

// commit writes c and, once it is written, reports the flows it started
// and ended to the observer.
func (e *Engine) commit(ctx context.Context, c Commit, events ...flowEvent) ([]Envelope, error) {
	// The backend may have used up the update's time: committing must not.
	envs, err := e.store.Commit(context.WithoutCancel(ctx), c)
	if errors.Is(err, ErrDuplicate) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", c.Session.Key, err)
	}
	e.report(events)
	e.signal(envs)
	return envs, nil
}

// Notify commits one message to a conversation's outbox, rendered in the
// customer's language (a staff reply notice, a generic error after a panic).
func (e *Engine) Notify(ctx context.Context, key, msgID string, data map[string]any) ([]Envelope, error) {
	unlock := e.locks.Lock(key)
	defer unlock()
	sess, ok, err := e.store.Load(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("load session %s: %w", key, err)
	}
	if !ok {
		sess = Session{Key: key, Updated: e.now()}
	}
	lang := e.langFor(&sess, "")
	r := Reply{Text: e.render(lang, msgID, data, nil)}
	return e.commit(ctx, Commit{Session: sess, Replies: []Reply{r}, Lang: lang})
}

// Deactivate marks a conversation unreachable (the customer blocked the
// bot); it becomes active again when they write.
func (e *Engine) Deactivate(ctx context.Context, key string) error {
	unlock := e.locks.Lock(key)
	defer unlock()
	sess, ok, err := e.store.Load(ctx, key)
	if err != nil || !ok {
		return err
	}
	sess.Inactive = true
	var events []flowEvent
	for i := len(sess.Stack) - 1; i >= 0; i-- {
		events = append(events, flowEvent{flow: sess.Stack[i].Flow, how: EndBlocked})
	}
	sess.Stack = nil
	sess.dropSecrets()
	_, err = e.commit(ctx, Commit{Session: sess}, events...)
	return err
}

// Pending returns up to limit undelivered replies for channel with an ID
// above after, oldest first: after 0 is the first page, the last ID seen
// the next.
func (e *Engine) Pending(ctx context.Context, channel string, after uint64, limit int) ([]Envelope, error) {
	return e.store.Pending(ctx, channel, after, limit)
}

// Wake returns a channel that receives a value (coalesced) whenever replies
// for channel are committed, so an adapter that did not handle the update
// itself — Slack for a customer's message, Telegram for a staff reply —
// knows to read its Pending.
func (e *Engine) Wake(channel string) <-chan struct{} {
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	if e.wake == nil {
		e.wake = map[string]chan struct{}{}
	}
	c, ok := e.wake[channel]
	if !ok {
		c = make(chan struct{}, 1)
		e.wake[channel] = c
	}
	return c
}

// signal wakes the adapters of the channels envs go to.
func (e *Engine) signal(envs []Envelope) {
	if len(envs) == 0 {
		return
	}
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	for _, env := range envs {
		if c, ok := e.wake[channelOf(env.Key)]; ok {
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}
}

// Delivered removes delivered replies from the outbox.
func (e *Engine) Delivered(ctx context.Context, ids ...uint64) error {
	return e.store.Delivered(ctx, ids...)
}

// langFor picks the reply language: the customer's choice, else the
// platform hint, else the default.
func (e *Engine) langFor(s *Session, hint string) string {
	if s.Lang != "" && e.localizers[s.Lang] != nil {
		return s.Lang
	}
	if hint == "" {
		// News from elsewhere (a staff reply) carries no hint: the
		// platform's last one stands.
		hint = s.Hint
	}
	hint = strings.ToLower(hint)
	switch {
	case strings.HasPrefix(hint, "he"), strings.HasPrefix(hint, "iw"):
		if e.localizers["he"] != nil {
			return "he"
		}
	case len(hint) >= 2 && e.localizers[hint[:2]] != nil:
		return hint[:2]
	}
	return e.defaultLang
}
