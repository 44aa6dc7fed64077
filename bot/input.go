package bot

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/looplab/fsm"
)

// Input is how a state takes the customer's answer. The set of kinds is
// closed: Text, Secret, List, Calendar, Toggles, Confirm, Review, Relay and
// End.
// Everything one kind does — its start-up checks, its messages, how it is
// drawn, how it takes typed text and button presses — lives in its own
// methods, so a new kind is one new type.
type Input interface {
	// check validates the declaration at start-up.
	check(f *Flow, s *State) error
	// messageIDs lists the message IDs the kind renders.
	messageIDs() []string
	// traits says how the engine treats the state around the kind.
	traits() traits
	// draw adds the kind's choices to the state's prompt.
	draw(r *run, at step, t *Turn, o *out) error
	// typed handles text typed while the state waits.
	typed(ctx context.Context, r *run, at step, text string) error
	// press handles one of the kind's own buttons; false means the token
	// is not the kind's (a stale or forged button).
	press(ctx context.Context, r *run, at step, kind, val string) (bool, error)
}

// traits are what the engine needs to know of an Input outside it.
type traits struct {
	secret bool // the answer is a password: delete it, read without echo
	form   bool // the customer is filling something in: offer Cancel, not Main menu
	ownNav bool // the kind draws its own Back/Cancel row
	end    bool // the flow ends after the prompt
	abort  bool // ... and the flows below it too
	relay  bool // what is typed goes to someone else: no idle expiry, no phrase matching
}

// step is the active flow, state and frame an Input works on.
type step struct {
	f  *Flow
	s  *State
	fr *Frame
}

// Vars the kit keeps in a frame; flows read them through Turn.
const (
	varWriteKey = "_key"    // the Idempotency-Key of the write being confirmed
	varReview   = "_review" // the Review state an answer returns to
	// The answer that woke an idle journey, kept until the customer
	// chooses to go on with it.
	varPending     = "_pending"
	varPendingData = "_pending_data"
)

// Callback token kinds of the inputs.
const (
	kindValue  = "v" // a List option
	kindPage   = "p" // a List page
	kindSkip   = "s" // Skip on an optional Text
	kindDay    = "d" // a Calendar day
	kindMonth  = "m" // a Calendar month
	kindNoop   = "x" // a Calendar cell that cannot be chosen
	kindToggle = "t" // a Toggles option
	kindDone   = "k" // Done / Save / Confirm
	kindField  = "f" // a Review field to edit
)

// buttonsOnly is the behaviour of kinds answered with buttons alone.
type buttonsOnly struct{}

func (buttonsOnly) typed(ctx context.Context, r *run, _ step, _ string) error {
	r.say("common.use_buttons", nil)
	return r.enter(ctx)
}

// needNext is the start-up check of kinds that fire EventNext.
func needNext(s *State) error {
	if s.On[EventNext] == "" {
		return fmt.Errorf("takes input but has no %s transition", EventNext)
	}
	return nil
}

// Text asks for typed text, checked by Check; a valid value is stored in
// Vars[Var] and fires next. Optional adds a Skip button that stores "".
type Text struct {
	Check       Validator
	Var         string
	Optional    bool
	MaxAttempts int
}

func (in Text) check(_ *Flow, s *State) error {
	if in.Check == nil {
		return errors.New("text input without a Check")
	}
	return needNext(s)
}

func (in Text) messageIDs() []string {
	if in.Optional {
		return []string{"common.btn.skip"}
	}
	return nil
}

func (Text) traits() traits { return traits{form: true} }

func (in Text) draw(_ *run, at step, _ *Turn, o *out) error {
	if in.Optional {
		o.buttons = append(o.buttons, []btn{{label: "common.btn.skip", data: callbackData(at.f.Name, at.s.Name, kindSkip, "")}})
	}
	return nil
}

func (in Text) typed(ctx context.Context, r *run, at step, text string) error {
	v, problem := in.Check(text)
	if problem != "" {
		return r.reject(ctx, at, problem, nil, in.MaxAttempts)
	}
	return r.accept(ctx, at, in.Var, v)
}

func (in Text) press(ctx context.Context, r *run, at step, kind, _ string) (bool, error) {
	if kind != kindSkip || !in.Optional {
		return false, nil
	}
	return true, r.accept(ctx, at, in.Var, "")
}

// Secret asks for a password: the customer's message is deleted, and the
// value reaches the next state's Enter (Turn.Secret). With Keep it is also
// held under that name (Turn.Held) while the flow stays active — encrypted
// at rest, dropped the moment the customer leaves the flow — for a journey
// that needs several passwords at once (current, new, repeated).
type Secret struct {
	Check       Validator
	Keep        string
	MaxAttempts int
}

func (in Secret) check(_ *Flow, s *State) error {
	if in.Check == nil {
		return errors.New("secret input without a Check")
	}
	return needNext(s)
}

func (Secret) messageIDs() []string                                            { return nil }
func (Secret) traits() traits                                                  { return traits{secret: true, form: true} }
func (Secret) draw(*run, step, *Turn, *out) error                              { return nil }
func (Secret) press(context.Context, *run, step, string, string) (bool, error) { return false, nil }

func (in Secret) typed(ctx context.Context, r *run, at step, text string) error {
	v, problem := in.Check(text)
	if problem != "" {
		return r.reject(ctx, at, problem, nil, in.MaxAttempts)
	}
	r.secret = v
	if in.Keep != "" {
		if r.sess.Secrets == nil || r.sess.SecretsFlow != at.f.Name {
			r.sess.Secrets = map[string]string{}
		}
		r.sess.Secrets[in.Keep], r.sess.SecretsFlow = v, at.f.Name
	}
	return r.accept(ctx, at, "", "")
}

// maxPage bounds the page a List button may ask for: 50,000 options at
// pageSize 5, more than any customer's list.
const maxPage = 10_000

// List shows the Options its Enter sets on the Turn as buttons, a page at
// a time; choosing one stores its value in Vars[Var] and fires next.
type List struct {
	Var string
	buttonsOnly
}

func (List) check(_ *Flow, s *State) error { return needNext(s) }
func (List) messageIDs() []string          { return []string{"common.btn.prev", "common.btn.next"} }
func (List) traits() traits                { return traits{} }

func (in List) draw(r *run, at step, t *Turn, o *out) error {
	for _, opt := range t.Options {
		d := callbackData(at.f.Name, at.s.Name, kindValue, opt.Value)
		if len(d) > MaxCallbackData {
			return fmt.Errorf("option %q makes callback data over %d bytes", opt.Value, MaxCallbackData)
		}
		o.buttons = append(o.buttons, []btn{{text: opt.Label, data: d}})
	}
	var paging []btn
	if p := t.Page(); p > 1 {
		paging = append(paging, btn{label: "common.btn.prev", data: callbackData(at.f.Name, at.s.Name, kindPage, strconv.Itoa(p-1))})
	}
	if t.More {
		paging = append(paging, btn{label: "common.btn.next", data: callbackData(at.f.Name, at.s.Name, kindPage, strconv.Itoa(t.Page()+1))})
	}
	if len(paging) > 0 {
		o.buttons = append(o.buttons, r.readingOrder(paging))
	}
	return nil
}

func (in List) press(ctx context.Context, r *run, at step, kind, val string) (bool, error) {
	switch kind {
	case kindValue:
		if val == "" {
			return false, nil
		}
		return true, r.accept(ctx, at, in.Var, val)
	case kindPage:
		// No list the bot draws reaches maxPage: a higher number is a
		// forged or damaged button, stale, and never asked of the portal.
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > maxPage {
			return false, nil
		}
		if at.fr.Pages == nil {
			at.fr.Pages = map[string]int{}
		}
		at.fr.Pages[at.fr.State] = n
		r.editID = r.in.MessageID
		return true, r.enter(ctx)
	}
	return false, nil
}

// Toggles shows the Options its Enter sets as buttons that switch on and
// off in place (the same message is edited); Vars[Var] holds the values
// switched on, comma-separated. Options sharing a Group act as one
// exclusive choice. Done (a label message ID) fires next once at least Min
// options are on; fewer gets the TooFew message.
type Toggles struct {
	Var    string
	Done   string
	Min    int
	TooFew string
	buttonsOnly
}

func (in Toggles) check(_ *Flow, s *State) error {
	if in.Var == "" || in.Done == "" {
		return errors.New("toggles need a Var and a Done label")
	}
	if in.Min > 0 && in.TooFew == "" {
		return errors.New("toggles with a minimum need a TooFew message")
	}
	return needNext(s)
}

func (in Toggles) messageIDs() []string {
	ids := []string{in.Done}
	if in.TooFew != "" {
		ids = append(ids, in.TooFew)
	}
	return ids
}

func (Toggles) traits() traits { return traits{form: true} }

// Toggle marks: a checkbox for an option on its own, a radio button for an
// option of a group.
const (
	markOn       = "✅ "
	markOff      = "⬜ "
	markChosen   = "🔘 "
	markUnchosen = "⚪ "
)

func (in Toggles) draw(r *run, at step, t *Turn, o *out) error {
	on := splitSet(at.fr.Vars[in.Var])
	var group []btn
	groupName := ""
	flush := func() {
		if len(group) > 0 {
			o.buttons = append(o.buttons, r.readingOrder(group))
			group = nil
		}
	}
	for _, opt := range t.Options {
		d := callbackData(at.f.Name, at.s.Name, kindToggle, opt.Value)
		if len(d) > MaxCallbackData {
			return fmt.Errorf("option %q makes callback data over %d bytes", opt.Value, MaxCallbackData)
		}
		mark := markOff
		switch {
		case opt.Group != "" && slices.Contains(on, opt.Value):
			mark = markChosen
		case opt.Group != "":
			mark = markUnchosen
		case slices.Contains(on, opt.Value):
			mark = markOn
		}
		b := btn{text: mark + opt.Label, data: d}
		if opt.Group == "" {
			flush()
			o.buttons = append(o.buttons, []btn{b})
			continue
		}
		if opt.Group != groupName {
			flush()
			groupName = opt.Group
		}
		group = append(group, b)
	}
	flush()
	o.buttons = append(o.buttons, []btn{{label: in.Done, data: callbackData(at.f.Name, at.s.Name, kindDone, "")}})
	return nil
}

func (in Toggles) press(ctx context.Context, r *run, at step, kind, val string) (bool, error) {
	switch kind {
	case kindDone:
		if n := len(splitSet(at.fr.Vars[in.Var])); n < in.Min {
			return true, r.reject(ctx, at, in.TooFew, nil, -1) // a reminder, not a guess: no limit
		}
		return true, r.accept(ctx, at, in.Var, at.fr.Vars[in.Var])
	case kindToggle:
		// The options come from Enter: run it to know them, then flip.
		t := r.turn(at.fr)
		if at.s.Enter != nil {
			if _, err := at.s.Enter(ctx, t); err != nil {
				return true, r.enter(ctx) // show the failure the usual way
			}
		}
		var opt *Option
		for i := range t.Options {
			if t.Options[i].Value == val {
				opt = &t.Options[i]
			}
		}
		if opt == nil {
			return false, nil
		}
		on := splitSet(at.fr.Vars[in.Var])
		if opt.Group != "" {
			on = slices.DeleteFunc(on, func(v string) bool {
				for _, o := range t.Options {
					if o.Value == v && o.Group == opt.Group {
						return true
					}
				}
				return false
			})
			on = append(on, val)
		} else if i := slices.Index(on, val); i >= 0 {
			on = slices.Delete(on, i, i+1)
		} else {
			on = append(on, val)
		}
		// Keep the values in option order, so the stored set is stable.
		var ordered []string
		for _, o := range t.Options {
			if slices.Contains(on, o.Value) {
				ordered = append(ordered, o.Value)
			}
		}
		setVar(at.fr, in.Var, strings.Join(ordered, ","))
		r.editID = r.in.MessageID
		return true, r.prompt(at, t)
	}
	return false, nil
}

// splitSet parses a Toggles value.
func splitSet(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// Confirm shows what a write will change (the flow's Enter puts old and new
// into the prompt's data) with Confirm, which fires next, Change, which
// fires change, and Cancel. Change names the change button's label where
// "Change" would mislead (default common.btn.change; "Back" before a
// removal). Each time it is shown it draws a fresh
// Idempotency-Key (Turn.WriteKey) and commits it with the screen, so the
// write that follows — and any "try again" of it, even after a crash — is
// applied once.
type Confirm struct {
	Change string
	buttonsOnly
}

func (Confirm) check(_ *Flow, s *State) error {
	if s.On[EventChange] == "" {
		return fmt.Errorf("confirm has no %s transition", EventChange)
	}
	return needNext(s)
}

func (in Confirm) messageIDs() []string {
	return []string{"common.btn.confirm", in.changeLabel(), "common.btn.cancel"}
}

func (in Confirm) changeLabel() string {
	if in.Change != "" {
		return in.Change
	}
	return "common.btn.change"
}

func (Confirm) traits() traits { return traits{form: true, ownNav: true} }

func (in Confirm) draw(_ *run, at step, _ *Turn, o *out) error {
	setVar(at.fr, varWriteKey, crand.Text())
	o.buttons = append(o.buttons,
		[]btn{{label: "common.btn.confirm", data: callbackData(at.f.Name, at.s.Name, kindDone, "")}},
		[]btn{
			{label: in.changeLabel(), data: callbackData(at.f.Name, at.s.Name, kindEvent, EventChange)},
			{label: "common.btn.cancel", data: dataCmd + cmdCancel},
		})
	return nil
}

func (Confirm) press(ctx context.Context, r *run, at step, kind, val string) (bool, error) {
	switch {
	case kind == kindDone:
		return true, r.fire(ctx, at, EventNext)
	case kind == kindEvent && val == EventChange:
		return true, r.fire(ctx, at, EventChange)
	}
	return false, nil
}

// Field is one editable value of a Review: its button label (a message ID)
// and the state that asks for it.
type Field struct {
	Label string
	State string
}

// Review shows values given so far (the flow's Enter or Vars fill the
// prompt) with a button per Field to change just that one, and Save
// (a label message ID), which fires next. An answer given from the review
// returns to it instead of going on; so does a value typed at the review
// itself that exactly one field's Text input accepts (a corrected email).
type Review struct {
	Fields []Field
	Save   string
}

func (in Review) typed(ctx context.Context, r *run, at step, text string) error {
	name, value, n := "", "", 0
	for _, fd := range in.Fields {
		if t, ok := at.f.byName[fd.State].Input.(Text); ok {
			if v, problem := t.Check(text); problem == "" {
				name, value, n = t.Var, v, n+1
			}
		}
	}
	if n != 1 {
		return buttonsOnly{}.typed(ctx, r, at, text)
	}
	setVar(at.fr, name, value)
	return r.enter(ctx)
}

func (in Review) check(f *Flow, s *State) error {
	if in.Save == "" || len(in.Fields) == 0 {
		return errors.New("review needs fields and a Save label")
	}
	for _, fd := range in.Fields {
		if f.byName[fd.State] == nil {
			return fmt.Errorf("review field %s: no state %q", fd.Label, fd.State)
		}
		if n := len(callbackData(f.Name, s.Name, kindField, fd.State)); n > MaxCallbackData {
			return fmt.Errorf("review field %s: callback data is %d bytes, over %d", fd.State, n, MaxCallbackData)
		}
	}
	return needNext(s)
}

func (in Review) messageIDs() []string {
	ids := []string{in.Save}
	for _, fd := range in.Fields {
		ids = append(ids, fd.Label)
	}
	return ids
}

func (Review) traits() traits { return traits{form: true} }

func (in Review) edges(_ *Flow, s *State) []fsm.EventDesc {
	var evs []fsm.EventDesc
	for _, fd := range in.Fields {
		evs = append(evs,
			fsm.EventDesc{Name: "edit_" + fd.State, Src: []string{s.Name}, Dst: fd.State},
			fsm.EventDesc{Name: EventReview, Src: []string{fd.State}, Dst: s.Name})
	}
	return evs
}

func (in Review) draw(_ *run, at step, _ *Turn, o *out) error {
	var fields []btn
	for _, fd := range in.Fields {
		fields = append(fields, btn{label: fd.Label, data: callbackData(at.f.Name, at.s.Name, kindField, fd.State)})
	}
	o.buttons = append(o.buttons, pairs(fields)...)
	o.buttons = append(o.buttons, []btn{{label: in.Save, data: callbackData(at.f.Name, at.s.Name, kindDone, "")}})
	return nil
}

func (in Review) press(ctx context.Context, r *run, at step, kind, val string) (bool, error) {
	switch kind {
	case kindDone:
		return true, r.fire(ctx, at, EventNext)
	case kindField:
		for _, fd := range in.Fields {
			if fd.State == val {
				// /back from the field returns here, even when the field
				// was asked before the review and is in the history.
				hist := slices.Clone(at.fr.History)
				if err := r.transition(at.f, at.fr, "edit_"+fd.State); err != nil {
					return true, err
				}
				at.fr.History = append(hist, at.s.Name)
				setVar(at.fr, varReview, at.s.Name)
				return true, r.enter(ctx)
			}
		}
	}
	return false, nil
}

// End makes a state the last of its flow: its prompt is shown (with the
// main menu when no flow is left) and the flow ends. Abort also ends the
// flows below it (a lock-out must not resume the journey that asked for
// login).
type End struct {
	Abort bool
	buttonsOnly
}

func (End) check(*Flow, *State) error                                       { return nil }
func (End) messageIDs() []string                                            { return nil }
func (in End) traits() traits                                               { return traits{end: true, abort: in.Abort} }
func (End) draw(*run, step, *Turn, *out) error                              { return nil }
func (End) press(context.Context, *run, step, string, string) (bool, error) { return false, nil }

// Relay passes everything the customer types to someone else — a live chat
// with staff — through Pass, and stays: the state is left by its buttons,
// by a Signal (the ticket closed) or by /menu. It says nothing of its own
// for each message; Pass may Say or Tell. A Relay never times out idle:
// the people on the other side may take a while.
type Relay struct {
	Pass func(ctx context.Context, t *Turn, text string) error
}

func (in Relay) check(_ *Flow, s *State) error {
	if in.Pass == nil {
		return errors.New("relay without Pass")
	}
	return nil
}
func (Relay) messageIDs() []string                                            { return nil }
func (Relay) traits() traits                                                  { return traits{relay: true, form: true} }
func (Relay) draw(*run, step, *Turn, *out) error                              { return nil }
func (Relay) press(context.Context, *run, step, string, string) (bool, error) { return false, nil }

func (in Relay) typed(ctx context.Context, r *run, at step, text string) error {
	err := in.Pass(ctx, r.turn(at.fr), text)
	var ue *UserError
	if errors.As(err, &ue) {
		if ue.Warn {
			r.log.Warn("step failed", "flow", at.f.Name, "state", at.s.Name, "err", ue.Err)
		}
		// Not sent: say so, and the customer can send it again.
		r.outs = append(r.outs, out{id: ue.MsgID, data: ue.Data, keep: true})
		return nil
	}
	return err
}
