package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/looplab/fsm"
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
	locks         keyLocks
}

// engineMsgs are the message IDs the engine itself renders.
var engineMsgs = []string{
	"menu.prompt", "menu.prompt_member", "menu.language", "menu.help",
	"common.welcome", "common.expired", "common.stale", "common.unknown",
	"common.unknown_command", "common.use_buttons", "common.stale_step", "common.cancelled",
	"common.too_many_attempts", "common.card_warning", "common.unsupported",
	"common.btn.back", "common.btn.cancel", "common.btn.menu", "common.btn.retry",
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
func (e *Engine) Handle(ctx context.Context, in Inbound) ([]Envelope, error) {
	unlock := e.locks.lock(in.Key)
	defer unlock()

	if in.UpdateID != 0 {
		seen, err := e.store.Handled(ctx, in.Key, in.UpdateID)
		if err != nil {
			return nil, fmt.Errorf("check update %d: %w", in.UpdateID, err)
		}
		if seen {
			return nil, nil
		}
	}
	sess, ok, err := e.store.Load(ctx, in.Key)
	fresh := false
	switch {
	case errors.Is(err, ErrUnreadable):
		e.log.Warn("session unreadable; starting afresh", "chat", in.Key, "err", err)
		sess, fresh = Session{Key: in.Key}, true
	case err != nil:
		return nil, fmt.Errorf("load session %s: %w", in.Key, err)
	case !ok:
		sess = Session{Key: in.Key}
	}
	saved, err := json.Marshal(sess)
	if err != nil {
		return nil, fmt.Errorf("copy session %s: %w", in.Key, err)
	}

	r := &run{e: e, in: in, sess: &sess, now: e.now()}
	r.lang = e.langFor(&sess, in.LangHint)
	if fresh {
		r.say("common.expired", nil)
	}
	uctx, cancel := context.WithTimeout(ctx, e.updateTimeout)
	err = r.handle(uctx)
	cancel()
	if err != nil {
		attrs := []any{"chat", in.Key, "err", err}
		if fr := sess.Top(); fr != nil {
			attrs = append(attrs, "flow", fr.Flow, "state", fr.State)
		}
		e.log.Error("handle update", attrs...)
		sess = Session{}
		if err := json.Unmarshal(saved, &sess); err != nil {
			return nil, fmt.Errorf("restore session %s: %w", in.Key, err)
		}
		// Keep the deletions (a password, a card number): they must
		// happen whatever went wrong.
		outs := []out{}
		for _, o := range r.outs {
			if o.del != 0 {
				outs = append(outs, o)
			}
		}
		r.outs = append(outs, out{id: "error.internal", buttons: [][]btn{{{label: "common.btn.menu", data: dataMenu}}}})
	}
	sess.Key = in.Key
	sess.Updated = r.now
	return e.commit(ctx, Commit{Session: sess, UpdateID: in.UpdateID, Replies: r.render(), Lang: r.lang})
}

func (e *Engine) commit(ctx context.Context, c Commit) ([]Envelope, error) {
	// The backend may have used up the update's time: committing must not.
	envs, err := e.store.Commit(context.WithoutCancel(ctx), c)
	if errors.Is(err, ErrDuplicate) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", c.Session.Key, err)
	}
	return envs, nil
}

// Notify commits one message to a conversation's outbox, rendered in the
// customer's language (a staff reply notice, a generic error after a panic).
func (e *Engine) Notify(ctx context.Context, key, msgID string, data map[string]any) ([]Envelope, error) {
	unlock := e.locks.lock(key)
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
	unlock := e.locks.lock(key)
	defer unlock()
	sess, ok, err := e.store.Load(ctx, key)
	if err != nil || !ok {
		return err
	}
	sess.Inactive = true
	sess.Stack = nil
	_, err = e.commit(ctx, Commit{Session: sess})
	return err
}

// Pending returns up to limit undelivered replies, oldest first.
func (e *Engine) Pending(ctx context.Context, limit int) ([]Envelope, error) {
	return e.store.Pending(ctx, limit)
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

// out is a reply before rendering.
type out struct {
	id      string
	data    map[string]any
	text    string // already rendered (wins over id)
	buttons [][]btn
	edit    int
	del     int
	secret  bool
}

type btn struct {
	label string // message ID
	text  string // already rendered label (wins over label)
	data  string
}

// run is the work of one Handle call.
type run struct {
	e      *Engine
	in     Inbound
	sess   *Session
	lang   string
	now    time.Time
	outs   []out
	secret string
	editID int
}

func (r *run) say(id string, data map[string]any) {
	r.outs = append(r.outs, out{id: id, data: data})
}

func (r *run) render() []Reply {
	replies := make([]Reply, 0, len(r.outs))
	for _, o := range r.outs {
		rp := Reply{Text: o.text, EditID: o.edit, DeleteID: o.del, Secret: o.secret}
		if rp.Text == "" && o.id != "" {
			rp.Text = r.e.render(r.lang, o.id, o.data, nil)
		}
		for _, row := range o.buttons {
			var bs []Button
			for _, b := range row {
				label := b.text
				if label == "" {
					label = r.e.fragment(r.lang, b.label, nil, nil)
				}
				bs = append(bs, Button{Label: label, Data: b.data})
			}
			rp.Buttons = append(rp.Buttons, bs)
		}
		replies = append(replies, rp)
	}
	return replies
}

func (r *run) handle(ctx context.Context) error {
	in, s := r.in, r.sess
	s.Inactive = false
	text := strings.TrimSpace(in.Text)
	cmd, _ := splitCommand(text)
	// Whatever is typed where a password is expected is deleted, even a
	// command or text arriving after the step timed out.
	if _, st, _ := r.active(); st != nil && st.Secret && in.Data == "" && !in.Unsupported {
		r.del(in.MessageID)
	}
	if s.Top() != nil && !s.Updated.IsZero() && r.now.Sub(s.Updated) > r.e.idle {
		s.Stack = nil
		r.say("common.expired", nil)
		if cmd == "" && !isGlobalData(in.Data) {
			return r.menu()
		}
	}
	switch {
	case in.Unsupported:
		r.say("common.unsupported", nil)
		if s.Top() == nil {
			return r.menu()
		}
		return nil
	case in.Data != "":
		return r.press(ctx, in.Data)
	case looksLikeCard(text):
		r.del(in.MessageID)
		r.say("common.card_warning", nil)
		if _, st, _ := r.active(); st != nil {
			return r.enter(ctx) // and on with the step they were at
		}
		return nil
	case cmd != "":
		return r.command(ctx, text)
	}
	return r.text(ctx, text)
}

// isGlobalData reports whether a button token works in any state.
func isGlobalData(data string) bool {
	return strings.HasPrefix(data, dataMenu) || strings.HasPrefix(data, dataLang) || strings.HasPrefix(data, dataCmd)
}

// active returns the running flow, its current state and frame, or nils
// when no flow runs or the session names a flow or state that no longer
// exists (saved by an older version).
func (r *run) active() (*Flow, *State, *Frame) {
	fr := r.sess.Top()
	if fr == nil {
		return nil, nil, nil
	}
	f := r.e.flows[fr.Flow]
	if f == nil {
		return nil, nil, fr
	}
	st := f.state(fr.State)
	if st == nil {
		return nil, nil, fr
	}
	return f, st, fr
}

// splitCommand returns the lower-cased command name of "/name@bot arg" and
// its argument, or "" when text is not a command.
func splitCommand(text string) (name, arg string) {
	if !strings.HasPrefix(text, "/") || len(text) < 2 {
		return "", ""
	}
	name, arg, _ = strings.Cut(text[1:], " ")
	name, _, _ = strings.Cut(name, "@")
	return strings.ToLower(name), strings.TrimSpace(arg)
}

func (r *run) del(messageID int) {
	if messageID == 0 {
		return
	}
	for _, o := range r.outs {
		if o.del == messageID {
			return
		}
	}
	r.outs = append(r.outs, out{del: messageID})
}

func (r *run) command(ctx context.Context, text string) error {
	name, arg := splitCommand(text)
	s := r.sess
	switch name {
	case cmdStart:
		s.Stack = nil
		for _, f := range r.e.order {
			dl := f.DeepLink
			if dl == nil || !strings.HasPrefix(arg, dl.Prefix) || len(arg) == len(dl.Prefix) {
				continue
			}
			v, problem := strings.TrimPrefix(arg, dl.Prefix), ""
			if dl.Check != nil {
				v, problem = dl.Check(v)
			}
			if problem != "" {
				return r.start(ctx, f, f.Start, nil)
			}
			return r.start(ctx, f, dl.State, map[string]string{dl.Var: v})
		}
		r.say("common.welcome", nil)
		return r.menu()
	case cmdMenu:
		s.Stack = nil
		return r.menu()
	case cmdCancel:
		if s.Top() != nil {
			s.Stack = nil
			r.say("common.cancelled", nil)
		}
		return r.menu()
	case cmdBack:
		return r.back(ctx)
	case cmdLang:
		r.languages()
		return nil
	case cmdHelp:
		r.outs = append(r.outs, out{id: "help.text", buttons: [][]btn{{{label: "common.btn.menu", data: dataMenu}}}})
		return nil
	}
	for _, f := range r.e.order {
		if f.Command == name {
			s.Stack = nil
			return r.start(ctx, f, f.Start, nil)
		}
	}
	r.say("common.unknown_command", nil)
	if s.Top() == nil {
		return r.menu()
	}
	return nil
}

func (r *run) languages() {
	row := make([]btn, 0, len(r.e.langs))
	for _, l := range r.e.langs {
		row = append(row, btn{label: "language.name." + l, data: dataLang + l})
	}
	r.outs = append(r.outs, out{id: "language.prompt", buttons: [][]btn{row}})
}

// press handles a button token.
func (r *run) press(ctx context.Context, data string) error {
	s := r.sess
	switch {
	case strings.HasPrefix(data, dataMenu):
		name := strings.TrimPrefix(data, dataMenu)
		s.Stack = nil
		switch {
		case name == cmdLang:
			r.languages()
			return nil
		case name == cmdHelp:
			return r.command(ctx, "/"+cmdHelp)
		case r.e.flows[name] != nil:
			return r.start(ctx, r.e.flows[name], r.e.flows[name].Start, nil)
		}
		return r.menu()
	case strings.HasPrefix(data, dataLang):
		l := strings.TrimPrefix(data, dataLang)
		if r.e.localizers[l] == nil {
			return r.stale(ctx)
		}
		s.Lang, r.lang = l, l
		r.say("language.set", nil)
		if s.Top() != nil {
			return r.enter(ctx)
		}
		return r.menu()
	case strings.HasPrefix(data, dataCmd):
		return r.command(ctx, "/"+strings.TrimPrefix(data, dataCmd))
	}
	where, tok, _ := strings.Cut(data, "|")
	kind, val, _ := strings.Cut(tok, ":")
	f, st, fr := r.active()
	if st == nil || where != fr.Flow+"."+fr.State {
		return r.stale(ctx)
	}
	switch kind {
	case kindEvent:
		for _, b := range st.Buttons {
			if b.Event == val {
				return r.fire(ctx, f, fr, val)
			}
		}
	case kindValue:
		if st.List && val != "" {
			setVar(fr, st.Var, val)
			return r.fire(ctx, f, fr, EventNext)
		}
	case kindPage:
		if n, err := strconv.Atoi(val); err == nil && n >= 1 && st.List {
			if fr.Pages == nil {
				fr.Pages = map[string]int{}
			}
			fr.Pages[fr.State] = n
			r.editID = r.in.MessageID
			return r.enter(ctx)
		}
	case kindRetry:
		return r.enter(ctx)
	}
	return r.stale(ctx)
}

// stale answers a button from an old message: the journey in progress, if
// any, goes on where it was; otherwise the main menu.
func (r *run) stale(ctx context.Context) error {
	if _, st, fr := r.active(); st != nil {
		r.say("common.stale_step", nil)
		return r.enter(ctx)
	} else if fr != nil {
		r.sess.Stack = nil
	}
	r.say("common.stale", nil)
	return r.menu()
}

func setVar(fr *Frame, name, v string) {
	if name == "" {
		return
	}
	if fr.Vars == nil {
		fr.Vars = map[string]string{}
	}
	fr.Vars[name] = v
}

// text handles typed input in the active state.
func (r *run) text(ctx context.Context, text string) error {
	f, st, fr := r.active()
	if st == nil {
		r.sess.Stack = nil
		r.say("common.unknown", nil)
		return r.menu()
	}
	if st.Ask == nil {
		r.say("common.use_buttons", nil)
		return r.enter(ctx)
	}
	v, problem := st.Ask(text)
	if problem != "" {
		fr.Attempts++
		max := st.MaxAttempts
		if max == 0 {
			max = defAttempt
		}
		if fr.Attempts >= max {
			r.sess.Stack = nil
			r.say("common.too_many_attempts", nil)
			return r.menu()
		}
		r.say(problem, nil)
		return r.prompt(f, st, r.turn(fr))
	}
	if st.Secret {
		r.secret = v
	} else {
		setVar(fr, st.Var, v)
	}
	return r.fire(ctx, f, fr, EventNext)
}

func (r *run) back(ctx context.Context) error {
	fr := r.sess.Top()
	if fr == nil {
		return r.menu()
	}
	if len(fr.History) == 0 {
		if len(r.sess.Stack) > 1 { // a login started for another journey: back into that one
			r.sess.Stack = r.sess.Stack[:len(r.sess.Stack)-1]
			return r.back(ctx)
		}
		r.sess.Stack = nil
		r.say("common.cancelled", nil)
		return r.menu()
	}
	fr.State = fr.History[len(fr.History)-1]
	fr.History = fr.History[:len(fr.History)-1]
	fr.Attempts = 0
	return r.enter(ctx)
}

// start replaces the stack with a new flow at state.
func (r *run) start(ctx context.Context, f *Flow, state string, vars map[string]string) error {
	r.sess.Stack = []Frame{{Flow: f.Name, State: state, Vars: vars}}
	return r.enter(ctx)
}

// fire moves the active flow by event through its fsm and enters the new state.
// Only states the customer answered are remembered for /back, so /back
// never lands on a step that would move on by itself.
func (r *run) fire(ctx context.Context, f *Flow, fr *Frame, event string) error {
	from, depth := fr.State, len(fr.History)
	if err := r.transition(f, fr, event); err != nil {
		return err
	}
	if fr.State != from && len(fr.History) == depth {
		fr.History = append(fr.History, from)
	}
	return r.enter(ctx)
}

func (r *run) transition(f *Flow, fr *Frame, event string) error {
	var entered []string
	m := f.machine(fr.State, &entered)
	// The fsm only moves between states: no I/O in callbacks, and a
	// background context so a cancelled update can never wedge it.
	err := m.Event(context.Background(), event)
	var nt fsm.NoTransitionError
	if err != nil && !errors.As(err, &nt) {
		return fmt.Errorf("flow %s: state %s: event %s: %w", f.Name, fr.State, event, err)
	}
	fr.State = m.Current()
	fr.Attempts = 0
	// Coming back to a step already in the history (a failed lookup going
	// back to the first question) forgets the steps after it.
	if i := slices.Index(fr.History, fr.State); i >= 0 {
		fr.History = fr.History[:i]
	}
	return nil
}

func (r *run) turn(fr *Frame) *Turn {
	return &Turn{Session: r.sess, Lang: r.lang, Now: r.now, Secret: r.secret, frame: fr, r: r}
}

// enter runs the active state's entry: login first if needed, then its
// action, then its prompt; it follows action events and flow ends until the
// conversation waits for input.
func (r *run) enter(ctx context.Context) error {
	for depth := 0; ; depth++ {
		if depth > maxDepth {
			return errors.New("flow does not settle: too many automatic steps")
		}
		fr := r.sess.Top()
		if fr == nil {
			return r.menu()
		}
		f := r.e.flows[fr.Flow]
		var st *State
		if f != nil {
			st = f.state(fr.State)
		}
		if st == nil { // a flow or state removed since the session was saved
			r.sess.Stack = nil
			r.say("common.expired", nil)
			return r.menu()
		}
		if st.Auth && r.sess.Token == "" {
			r.sess.Stack = append(r.sess.Stack, Frame{Flow: loginFlow, State: r.e.flows[loginFlow].Start})
			continue
		}
		t := r.turn(fr)
		if st.Enter != nil {
			ev, err := st.Enter(ctx, t)
			r.secret = "" // a secret serves one step only
			var ue *UserError
			switch {
			case errors.Is(err, ErrLoginRequired):
				r.sess.Token, r.sess.Customer, r.sess.Email = "", "", ""
				r.say("login.expired", nil)
				r.sess.Stack = append(r.sess.Stack, Frame{Flow: loginFlow, State: r.e.flows[loginFlow].Start})
				continue
			case errors.As(err, &ue):
				r.outs = append(r.outs, out{id: ue.MsgID, data: ue.Data, buttons: [][]btn{
					{{label: "common.btn.retry", data: callbackData(f.Name, st.Name, kindRetry, "")}},
					r.navRow(fr, st),
				}})
				return nil
			case err != nil:
				return fmt.Errorf("flow %s: state %s: %w", f.Name, st.Name, err)
			case ev != "":
				if err := r.transition(f, fr, ev); err != nil {
					return err
				}
				continue
			}
		}
		if err := r.prompt(f, st, t); err != nil {
			return err
		}
		if !st.End {
			return nil
		}
		r.sess.Stack = r.sess.Stack[:len(r.sess.Stack)-1]
		if st.Abort {
			r.sess.Stack = nil
		}
		if r.sess.Top() == nil {
			r.attachMenu()
			return nil
		}
	}
}

// navRow offers Back (when there is a step to go back to) and Cancel while
// the customer is typing something, or Main menu when they are looking at
// a result.
func (r *run) navRow(fr *Frame, st *State) []btn {
	row := []btn{}
	if len(fr.History) > 0 || len(r.sess.Stack) > 1 {
		row = append(row, btn{label: "common.btn.back", data: dataCmd + cmdBack})
	}
	if st.Ask != nil {
		return append(row, btn{label: "common.btn.cancel", data: dataCmd + cmdCancel})
	}
	return append(row, btn{label: "common.btn.menu", data: dataMenu})
}

// prompt shows a state's message with its choices.
func (r *run) prompt(f *Flow, st *State, t *Turn) error {
	if st.Prompt == "" {
		return nil
	}
	fr := t.frame
	data := make(map[string]any, len(fr.Vars)+len(t.Data))
	for k, v := range fr.Vars {
		data[k] = v
	}
	for k, v := range t.Data {
		data[k] = v
	}
	o := out{id: st.Prompt, data: data, edit: r.editID, secret: st.Secret}
	if st.List {
		for _, opt := range t.Options {
			d := callbackData(f.Name, st.Name, kindValue, opt.Value)
			if len(d) > MaxCallbackData {
				return fmt.Errorf("flow %s: state %s: option %q makes callback data over %d bytes", f.Name, st.Name, opt.Value, MaxCallbackData)
			}
			o.buttons = append(o.buttons, []btn{{text: opt.Label, data: d}})
		}
		var paging []btn
		if p := t.Page(); p > 1 {
			paging = append(paging, btn{label: "common.btn.prev", data: callbackData(f.Name, st.Name, kindPage, strconv.Itoa(p-1))})
		}
		if t.More {
			paging = append(paging, btn{label: "common.btn.next", data: callbackData(f.Name, st.Name, kindPage, strconv.Itoa(t.Page()+1))})
		}
		if len(paging) > 0 {
			o.buttons = append(o.buttons, paging)
		}
	}
	var row []btn
	for _, b := range st.Buttons {
		row = append(row, btn{label: b.Label, data: callbackData(f.Name, st.Name, kindEvent, b.Event)})
		if len(row) == 2 {
			o.buttons = append(o.buttons, row)
			row = nil
		}
	}
	if len(row) > 0 {
		o.buttons = append(o.buttons, row)
	}
	if !st.End {
		o.buttons = append(o.buttons, r.navRow(fr, st))
	}
	r.outs = append(r.outs, o)
	return nil
}

// menuButtons lists the main menu for the session's login state.
func (r *run) menuButtons() [][]btn {
	member := r.sess.Token != ""
	var rows [][]btn
	var row []btn
	add := func(b btn) {
		row = append(row, b)
		if len(row) == 2 {
			rows = append(rows, row)
			row = nil
		}
	}
	for _, f := range r.e.order {
		if f.Menu == MenuAlways || (f.Menu == MenuGuest && !member) || (f.Menu == MenuMember && member) {
			add(btn{label: f.Title, data: dataMenu + f.Name})
		}
	}
	add(btn{label: "menu.language", data: dataMenu + cmdLang})
	add(btn{label: "menu.help", data: dataMenu + cmdHelp})
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

func (r *run) menu() error {
	o := out{id: "menu.prompt", buttons: r.menuButtons()}
	if r.sess.Token != "" {
		o.id, o.data = "menu.prompt_member", map[string]any{"Name": r.sess.Customer}
	}
	r.outs = append(r.outs, o)
	return nil
}

// attachMenu puts the main menu under the last message of a finished flow.
func (r *run) attachMenu() {
	if n := len(r.outs); n > 0 && r.outs[n-1].del == 0 {
		r.outs[n-1].buttons = append(r.outs[n-1].buttons, r.menuButtons()...)
		return
	}
	_ = r.menu()
}
