package bot

import (
	"strings"
	"time"
)

// Observer is told what the engine does, for metrics. The engine calls it
// synchronously from Handle and Deactivate, so an implementation must be
// quick and safe for concurrent use. Every argument comes from a small
// fixed set (channel names, the kinds and reasons below, flow names) and
// never carries a chat id, a customer's text or a token. Config.Observer
// nil observes nothing.
type Observer interface {
	// Update is called for every inbound update, redelivered ones
	// included: channel is the conversation key's prefix ("telegram",
	// "console"), kind one of UpdateText, UpdateButton, UpdateCommand,
	// UpdateUnsupported and UpdateEdited.
	Update(channel, kind string)
	// Duplicate is called for a redelivered update id, which changes
	// nothing.
	Duplicate(channel string)
	// FlowStarted is called when a flow is put on a conversation's stack:
	// from the menu, a command, a shortcut, a request in words, another
	// flow's hand-off, or login pushed in front of a step that needs it.
	FlowStarted(flow string)
	// FlowEnded is called when a flow leaves a conversation's stack. how
	// is EndCompleted, or the reason it was abandoned (EndCancel, EndMenu,
	// EndOtherFlow, EndTimeout, EndAttempts, EndAborted, EndBlocked,
	// EndGone).
	FlowEnded(flow, how string)
	// Handled reports how long Handle took for one update that was not a
	// duplicate: waiting for the conversation's lock, the flow's steps with
	// their backend calls, and the commit.
	Handled(d time.Duration)
}

// The kinds of update Observer.Update reports.
const (
	UpdateText        = "text"        // typed text, not a command
	UpdateButton      = "button"      // a pressed button
	UpdateCommand     = "command"     // a slash command
	UpdateUnsupported = "unsupported" // content the bot cannot read
	UpdateEdited      = "edited"      // an edit of an earlier message
)

// How a flow left the stack, as Observer.FlowEnded reports it. A flow
// completes when one of its End states pops it, or when it hands the
// customer on to another journey (Turn.Jump, e.g. My plans → SIM card);
// every other way out abandons it.
const (
	EndCompleted = "completed"  // an End state popped it, or it handed off
	EndCancel    = "cancel"     // /cancel, or /back from its first step
	EndMenu      = "menu"       // /start, /menu or a menu button
	EndOtherFlow = "other_flow" // another flow started over it
	EndTimeout   = "timeout"    // left idle longer than Config.IdleTimeout
	EndAttempts  = "attempts"   // too many invalid answers
	EndAborted   = "aborted"    // a flow above it ended with End{Abort}
	EndBlocked   = "blocked"    // the customer blocked the bot
	EndGone      = "gone"       // saved by a version that had its flow or state
)

// UnknownFlow names, to an Observer, a flow on a saved stack that this
// version does not have.
const UnknownFlow = "unknown"

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) Update(string, string)    {}
func (nopObserver) Duplicate(string)         {}
func (nopObserver) FlowStarted(string)       {}
func (nopObserver) FlowEnded(string, string) {}
func (nopObserver) Handled(time.Duration)    {}

// flowEvent is a flow put on the stack (how == "") or taken off it, noted
// during an update and reported once the update is committed.
type flowEvent struct{ flow, how string }

// started notes that flow was put on the stack.
func (r *run) started(flow string) {
	r.flowEvents = append(r.flowEvents, flowEvent{flow: flow})
}

// ended notes that flow left the stack for how.
func (r *run) ended(flow, how string) {
	r.flowEvents = append(r.flowEvents, flowEvent{flow: flow, how: how})
}

// drop abandons every flow on the stack, top first, for how, and clears
// it. It reports whether a live chat was left (its Leave said so).
func (r *run) drop(how string) (left bool) {
	for i := len(r.sess.Stack) - 1; i >= 0; i-- {
		fr := &r.sess.Stack[i]
		if f := r.e.flows[fr.Flow]; f != nil && f.Leave != nil {
			if st := f.state(fr.State); st != nil && st.Input != nil && st.Input.traits().relay {
				f.Leave(r.turn(fr))
				left = true
			}
		}
		r.ended(fr.Flow, how)
	}
	r.sess.Stack = nil
	return left
}

// report tells the observer about the flows an update started and ended;
// call it only once the update is committed.
func (e *Engine) report(events []flowEvent) {
	for _, ev := range events {
		name := ev.flow
		if e.flows[name] == nil {
			name = UnknownFlow
		}
		if ev.how == "" {
			e.obs.FlowStarted(name)
		} else {
			e.obs.FlowEnded(name, ev.how)
		}
	}
}

// updateKind classifies in for Observer.Update.
func updateKind(in Inbound) string {
	switch {
	case in.Edited:
		return UpdateEdited
	case in.Unsupported:
		return UpdateUnsupported
	case in.Data != "":
		return UpdateButton
	}
	if name, _ := splitCommand(strings.TrimSpace(in.Text)); name != "" {
		return UpdateCommand
	}
	return UpdateText
}

// channelOf returns the channel part of a conversation key
// ("telegram:42" → "telegram"), or "unknown".
func channelOf(key string) string {
	ch, _, ok := strings.Cut(key, ":")
	if !ok || ch == "" {
		return "unknown"
	}
	return ch
}
