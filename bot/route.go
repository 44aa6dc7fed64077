package bot

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"
	"unicode/utf8"
)

// This file routes one inbound update: global commands and buttons first,
// then the active state's Input.

// run is the work of one Handle call.
type run struct {
	e      *Engine
	log    *slog.Logger // carries the update's chat and id
	in     Inbound
	sess   *Session
	lang   string
	now    time.Time
	outs   []out
	secret string
	editID int
	// memo holds what Enter functions fetched during this update, so two
	// steps of one update never fetch the same data twice.
	memo map[string]any
	// rendered holds the fragments Turn.T and Turn.N produced: already
	// localised, with their own direction marks, they are not isolated
	// again when placed in a message.
	rendered map[string]bool
	// flowEvents are the flows this update started and ended, reported
	// to the Observer once it is committed.
	flowEvents []flowEvent
}

// keep remembers a rendered fragment and returns it.
func (r *run) keep(s string) string {
	if r.rendered == nil {
		r.rendered = map[string]bool{}
	}
	r.rendered[s] = true
	return s
}

// asRendered marks the string values of data made of rendered fragments
// (one, or lines of them joined) so rendering does not isolate them again.
func (r *run) asRendered(data map[string]any) map[string]any {
	if len(r.rendered) == 0 || len(data) == 0 {
		return data
	}
	out := make(map[string]any, len(data))
	for k, v := range data {
		if s, ok := v.(string); ok && s != "" && r.allRendered(s) {
			v = renderedText(s)
		}
		out[k] = v
	}
	return out
}

func (r *run) allRendered(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if !r.rendered[line] {
			return false
		}
	}
	return true
}

func (r *run) handle(ctx context.Context) error {
	in, s := r.in, r.sess
	if in.Event != "" {
		return r.signal(ctx)
	}
	s.Inactive = false
	text := strings.TrimSpace(in.Text)
	cmd, _ := splitCommand(text)
	card := looksLikeCard(text) || looksLikeCard(in.Caption)
	if in.Edited {
		// An edit is no answer (the journey may have moved on since the
		// message): only a card number in it matters.
		if card {
			r.del(in.MessageID)
			r.say("common.card_warning", nil)
			return nil
		}
		r.say("common.edited", nil)
		return nil
	}
	// An answer kept over an idle pause is for Continue only: anything
	// else the customer does instead forgets it.
	if fr := s.Top(); fr != nil && in.Data != dataCmd+cmdResume {
		delete(fr.Vars, varPending)
		delete(fr.Vars, varPendingData)
	}
	// Whatever is sent where a password is expected is deleted, even a
	// command or text arriving after the step timed out, and content the
	// bot cannot read: a photo's caption, a voice note may hold it too.
	if at, ok := r.active(); ok && at.traits().secret && in.Data == "" {
		r.del(in.MessageID)
	}
	if at, ok := r.active(); ok && at.traits().relay {
		// A live chat never times out: staff may take a while.
	} else if s.Top() != nil && !s.Updated.IsZero() && r.now.Sub(s.Updated) > r.e.idle {
		// An answer that wakes an idle journey is kept, not thrown away:
		// the customer chooses to go on with it or to start afresh. A
		// password is never kept; a command means they moved on.
		if at, ok := r.active(); ok && cmd == "" && !card && len(in.Text) <= maxKept &&
			!isGlobalData(in.Data) && !in.Unsupported && !at.traits().secret {
			setVar(at.fr, varPending, in.Text)
			setVar(at.fr, varPendingData, in.Data)
			r.outs = append(r.outs, out{id: "common.idle_kept", buttons: [][]btn{
				{{label: "common.btn.continue", data: dataCmd + cmdResume}},
				{{label: "common.btn.menu", data: dataMenu}},
			}})
			return nil
		}
		r.drop(EndTimeout)
		r.say("common.expired", nil)
		if cmd == "" && !card && !isGlobalData(in.Data) {
			return r.menu()
		}
	}
	switch {
	case in.Data != "":
		return r.press(ctx, in.Data)
	case card: // typed, or in a photo's caption
		r.del(in.MessageID)
		r.say("common.card_warning", nil)
		if _, ok := r.active(); ok {
			return r.enter(ctx) // and on with the step they were at
		}
		return nil
	case in.Unsupported:
		r.say("common.unsupported", nil)
		if s.Top() == nil {
			return r.menu()
		}
		return nil
	case utf8.RuneCountInString(text) > MaxText:
		// Nothing the bot asks for is this long: say so, and ask again.
		r.say("common.input.too_long", nil)
		if _, ok := r.active(); ok {
			return r.enter(ctx)
		}
		return r.menu()
	case cmd != "":
		return r.command(ctx, text)
	}
	return r.text(ctx, text)
}

// isGlobalData reports whether a button token works in any state.
func isGlobalData(data string) bool {
	return strings.HasPrefix(data, dataMenu) || strings.HasPrefix(data, dataLang) || strings.HasPrefix(data, dataCmd)
}

// traits of the step's input; a state without one is answered by buttons.
func (at step) traits() traits {
	if at.s.Input == nil {
		return traits{}
	}
	return at.s.Input.traits()
}

// active returns the running flow, its current state and frame; ok is false
// when no flow runs or the session names a flow or state that no longer
// exists (saved by an older version).
func (r *run) active() (step, bool) {
	fr := r.sess.Top()
	if fr == nil {
		return step{}, false
	}
	f := r.e.flows[fr.Flow]
	if f == nil {
		return step{fr: fr}, false
	}
	st := f.state(fr.State)
	if st == nil {
		return step{fr: fr}, false
	}
	return step{f: f, s: st, fr: fr}, true
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

func (r *run) command(ctx context.Context, text string) error {
	name, arg := splitCommand(text)
	s := r.sess
	switch name {
	case cmdStart:
		if arg == "" {
			if at, ok := r.active(); ok {
				// A returning customer (or a terminal started again) is
				// offered the journey they were in.
				r.offerResume(at)
				return nil
			}
		}
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
		r.drop(EndMenu)
		r.say("common.welcome", nil)
		return r.menu()
	case cmdMenu:
		r.drop(EndMenu)
		return r.menu()
	case cmdCancel:
		if s.Top() != nil && !r.drop(EndCancel) {
			r.say("common.cancelled", nil) // a live chat left says where its ticket stands instead
		}
		return r.menu()
	case cmdBack:
		return r.back(ctx)
	case cmdResume:
		return r.resume(ctx)
	case cmdLang:
		r.languages()
		return nil
	case cmdHelp:
		r.outs = append(r.outs, out{id: "help.text", buttons: [][]btn{{{label: "common.btn.menu", data: dataMenu}}}})
		return nil
	}
	for _, f := range r.e.order {
		if f.Command == name {
			r.drop(EndOtherFlow)
			if sc := f.Shortcut; sc != nil && arg != "" {
				if v, problem := sc.Check(arg); problem == "" {
					return r.start(ctx, f, sc.State, map[string]string{sc.Var: v})
				}
			}
			return r.start(ctx, f, f.Start, nil)
		}
	}
	r.say("common.unknown_command", nil)
	if s.Top() == nil {
		return r.menu()
	}
	return nil
}

// offerResume asks a returning customer whether to go on with the journey
// they were in: its Resume message (with the frame's values) or its title.
func (r *run) offerResume(at step) {
	o := out{id: "common.resume", data: map[string]any{"Flow": r.e.fragmentLog(r.log, r.lang, at.f.Title, nil, nil)}}
	if at.f.Resume != "" {
		data := map[string]any{}
		for k, v := range at.fr.Vars {
			if k[0] != '_' {
				data[k] = v
			}
		}
		o.id, o.data = at.f.Resume, data
	}
	o.buttons = [][]btn{
		{{label: "common.btn.continue", data: dataCmd + cmdResume}},
		{{label: "common.btn.menu", data: dataMenu}},
	}
	r.outs = append(r.outs, o)
}

// resume goes on with the active journey: with the answer kept when it
// woke from idle, else by showing its current step again.
func (r *run) resume(ctx context.Context) error {
	at, ok := r.active()
	if !ok {
		return r.menu()
	}
	text, data := at.fr.Vars[varPending], at.fr.Vars[varPendingData]
	delete(at.fr.Vars, varPending)
	delete(at.fr.Vars, varPendingData)
	switch {
	case data != "":
		r.in.MessageID = 0 // the kept press's message is not this one
		return r.press(ctx, data)
	case strings.TrimSpace(text) != "":
		return r.text(ctx, strings.TrimSpace(text))
	}
	return r.enter(ctx)
}

// press handles a button token.
func (r *run) press(ctx context.Context, data string) error {
	s := r.sess
	switch {
	case strings.HasPrefix(data, dataMenu):
		name := strings.TrimPrefix(data, dataMenu)
		if name != cmdLang && name != cmdHelp && r.e.flows[name] != nil {
			r.drop(EndOtherFlow)
		} else {
			r.drop(EndMenu)
		}
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
	at, ok := r.active()
	if !ok || where != at.fr.Flow+"."+at.fr.State {
		return r.stale(ctx)
	}
	switch kind {
	case kindEvent:
		for _, b := range at.s.Buttons {
			if b.Event == val {
				return r.fire(ctx, at, val)
			}
		}
	case kindRetry:
		return r.enter(ctx)
	}
	if at.s.Input != nil {
		if handled, err := at.s.Input.press(ctx, r, at, kind, val); handled || err != nil {
			return err
		}
	}
	return r.stale(ctx)
}

// stale answers a button from an old message: the journey in progress, if
// any, goes on where it was; otherwise the main menu.
func (r *run) stale(ctx context.Context) error {
	if _, ok := r.active(); ok {
		r.say("common.stale_step", nil)
		return r.enter(ctx)
	} else {
		r.drop(EndGone) // its flow or state no longer exists
	}
	r.say("common.stale", nil)
	return r.menu()
}

// text handles typed input in the active state. Text that is no answer to
// it (no journey runs, or the step is answered with buttons) may be a
// shortcut (an order number) or a request in words ("voicemail").
func (r *run) text(ctx context.Context, text string) error {
	at, ok := r.active()
	if !ok || !at.traits().form {
		if done, err := r.shortcut(ctx, at, text); done || err != nil {
			return err
		}
		if done, err := r.phrases(ctx, text); done || err != nil {
			return err
		}
	}
	if !ok {
		r.drop(EndGone) // nothing runs, or its flow or state no longer exists
		r.say("common.unknown", nil)
		return r.menu()
	}
	if at.s.Input == nil {
		return buttonsOnly{}.typed(ctx, r, at, text)
	}
	return at.s.Input.typed(ctx, r, at, text)
}

// shortcut opens the flow whose Shortcut accepts text: the active flow's
// own first, then the others in menu order.
func (r *run) shortcut(ctx context.Context, at step, text string) (bool, error) {
	flows := r.e.order
	if at.f != nil {
		flows = append([]*Flow{at.f}, flows...)
	}
	for _, f := range flows {
		sc := f.Shortcut
		if sc == nil {
			continue
		}
		if v, problem := sc.Check(text); problem == "" {
			return true, r.start(ctx, f, sc.State, map[string]string{sc.Var: v})
		}
	}
	return false, nil
}

// signal handles news for the conversation (Inbound.Event): the active
// flow's own Signal if it has one, else the flow Config.Signals names for
// the event, started on top of the stack with the event's values.
func (r *run) signal(ctx context.Context) error {
	in := r.in
	if at, ok := r.active(); ok {
		if sig := at.f.Signals[in.Event]; sig != nil {
			t := r.turn(at.fr)
			ev, err := sig(ctx, t, in.Vars)
			switch {
			case err != nil:
				return fmt.Errorf("flow %s: state %s: signal %s: %w", at.f.Name, at.s.Name, in.Event, err)
			case t.jump != nil:
				f := r.e.flows[t.jump.Flow]
				if f == nil {
					return fmt.Errorf("flow %s: signal %s: jump to unknown flow %q", at.f.Name, in.Event, t.jump.Flow)
				}
				t.jump.State = f.Start
				r.sess.Stack[len(r.sess.Stack)-1] = *t.jump
				r.ended(at.f.Name, EndCompleted)
				r.started(f.Name)
				return r.enter(ctx)
			case ev != "":
				return r.fire(ctx, at, ev)
			}
			return nil
		}
	}
	f := r.e.flows[r.e.signals[in.Event]]
	if f == nil {
		r.log.Warn("event no flow handles", "event", in.Event)
		return nil
	}
	r.sess.Stack = append(r.sess.Stack, Frame{Flow: f.Name, State: f.Start, Vars: maps.Clone(in.Vars)})
	r.started(f.Name)
	return r.enter(ctx)
}
