package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/looplab/fsm"
)

// This file moves a conversation between steps: through a flow's fsm, onto
// and off the flow stack, and into a state's Enter.

func setVar(fr *Frame, name, v string) {
	if name == "" {
		return
	}
	if fr.Vars == nil {
		fr.Vars = map[string]string{}
	}
	fr.Vars[name] = v
}

// accept stores a valid answer and moves on: back to the Review it was
// asked from, if any, else by next.
func (r *run) accept(ctx context.Context, at step, name, value string) error {
	setVar(at.fr, name, value)
	if back := at.fr.Vars[varReview]; back != "" && at.f.hasEdge(EventReview, at.s.Name) {
		delete(at.fr.Vars, varReview)
		return r.fire(ctx, at, EventReview)
	}
	return r.fire(ctx, at, EventNext)
}

// reject counts an invalid answer and asks again with the problem, or ends
// the journey after max tries (default 5, one policy for every step; a
// negative max never ends it). The reason is said every time, the last too.
func (r *run) reject(ctx context.Context, at step, problem string, data map[string]any, max int) error {
	at.fr.Attempts++
	if max == 0 {
		max = defAttempt
	}
	r.say(problem, data)
	if max > 0 && at.fr.Attempts >= max {
		r.drop(EndAttempts)
		if r.e.human != "" {
			r.outs = append(r.outs, out{id: "common.too_many_attempts", buttons: [][]btn{r.humanRow(), {{label: "common.btn.menu", data: dataMenu}}}})
			return nil
		}
		r.say("common.too_many_attempts", nil)
		return r.menu()
	}
	return r.enter(ctx)
}

func (f *Flow) hasEdge(event, src string) bool {
	for _, e := range f.events {
		if e.Name == event && slices.Contains(e.Src, src) {
			return true
		}
	}
	return false
}

func (r *run) back(ctx context.Context) error {
	fr := r.sess.Top()
	if fr == nil {
		return r.menu()
	}
	if at, ok := r.active(); ok && at.traits().relay {
		// Nothing to go back to in a live chat: /back leaves it.
		r.drop(EndCancel)
		return r.menu()
	}
	if len(fr.History) == 0 {
		if at, ok := r.active(); ok && at.s.Fresh && len(r.sess.Stack) > 1 {
			// News shown on top of a journey (a rating asked for): back
			// to that journey where it was.
			r.ended(fr.Flow, EndCancel)
			r.sess.Stack = r.sess.Stack[:len(r.sess.Stack)-1]
			return r.enter(ctx)
		}
		if len(r.sess.Stack) > 1 { // a login started for another journey: back into that one
			r.ended(fr.Flow, EndCancel)
			r.sess.Stack = r.sess.Stack[:len(r.sess.Stack)-1]
			return r.back(ctx)
		}
		r.drop(EndCancel)
		r.say("common.cancelled", nil)
		return r.menu()
	}
	fr.State = fr.History[len(fr.History)-1]
	fr.History = fr.History[:len(fr.History)-1]
	fr.Attempts = 0
	delete(fr.Vars, varReview)
	return r.enter(ctx)
}

// start replaces the stack with a new flow at state; the flows it
// replaces are abandoned.
func (r *run) start(ctx context.Context, f *Flow, state string, vars map[string]string) error {
	r.drop(EndOtherFlow)
	r.sess.Stack = []Frame{{Flow: f.Name, State: state, Vars: vars}}
	r.started(f.Name)
	return r.enter(ctx)
}

// fire moves the active flow by event through its fsm and enters the new state.
// Only states the customer answered are remembered for /back, so /back
// never lands on a step that would move on by itself.
func (r *run) fire(ctx context.Context, at step, event string) error {
	from, depth := at.fr.State, len(at.fr.History)
	if err := r.transition(at.f, at.fr, event); err != nil {
		return err
	}
	// A live chat is not gone back into: its ticket may be closed.
	if at.fr.State != from && len(at.fr.History) == depth && !at.traits().relay {
		at.fr.History = append(at.fr.History, from)
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
// action, then its prompt; it follows action events, jumps to other flows
// and flow ends until the conversation waits for input.
func (r *run) enter(ctx context.Context) error {
	for depth := 0; ; depth++ {
		if depth > maxDepth {
			return errors.New("flow does not settle: too many automatic steps")
		}
		at, ok := r.active()
		if !ok {
			if r.sess.Top() != nil { // a flow or state removed since the session was saved
				r.drop(EndGone)
				r.say("common.expired", nil)
			}
			return r.menu()
		}
		if at.s.Fresh {
			at.fr.History = nil
		}
		if at.s.Auth && r.sess.Token == "" {
			r.sess.Stack = append(r.sess.Stack, Frame{Flow: loginFlow, State: r.e.flows[loginFlow].Start})
			r.started(loginFlow)
			continue
		}
		t := r.turn(at.fr)
		if at.s.Enter != nil {
			ev, err := at.s.Enter(ctx, t)
			r.secret = "" // a secret serves one step only
			var ue *UserError
			switch {
			case errors.Is(err, ErrLoginRequired):
				r.sess.Logout()
				r.say("login.expired", nil)
				r.sess.Stack = append(r.sess.Stack, Frame{Flow: loginFlow, State: r.e.flows[loginFlow].Start})
				r.started(loginFlow)
				continue
			case errors.As(err, &ue):
				if ue.Warn {
					r.log.Warn("step failed", "flow", at.f.Name, "state", at.s.Name, "err", ue.Err)
				}
				rows := [][]btn{{{label: "common.btn.retry", data: callbackData(at.f.Name, at.s.Name, kindRetry, "")}}}
				if row := r.humanRow(); row != nil && !at.f.Support {
					rows[0] = append(rows[0], row...)
				}
				r.outs = append(r.outs, out{id: ue.MsgID, data: ue.Data, buttons: append(rows, r.navRow(at))})
				return nil
			case err != nil:
				return fmt.Errorf("flow %s: state %s: %w", at.f.Name, at.s.Name, err)
			case t.jump != nil:
				f := r.e.flows[t.jump.Flow]
				if f == nil {
					return fmt.Errorf("flow %s: state %s: jump to unknown flow %q", at.f.Name, at.s.Name, t.jump.Flow)
				}
				t.jump.State = f.Start
				r.sess.Stack[len(r.sess.Stack)-1] = *t.jump
				r.ended(at.f.Name, EndCompleted) // it handed the customer on
				r.started(f.Name)
				continue
			case ev != "":
				if err := r.transition(at.f, at.fr, ev); err != nil {
					return err
				}
				continue
			}
		}
		if err := r.prompt(at, t); err != nil {
			return err
		}
		tr := at.traits()
		if !tr.end {
			return nil
		}
		r.sess.Stack = r.sess.Stack[:len(r.sess.Stack)-1]
		r.ended(at.f.Name, EndCompleted)
		if tr.abort {
			r.drop(EndAborted)
		}
		if r.sess.Top() == nil {
			r.attachMenu()
			return nil
		}
	}
}
