package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/looplab/fsm"
)

// The events the kit itself fires. A flow declares the others it uses (a
// button's event, an action's outcome) in Flow.Events.
const (
	// EventNext: an input state got a valid answer, or a Confirm, Toggles
	// or Review state was accepted.
	EventNext = "next"
	// EventFail: an action went wrong in a way the customer can correct.
	EventFail = "fail"
	// EventChange: the customer pressed Change on a Confirm state.
	EventChange = "change"
	// EventReview: an answer given from a Review screen returns there; the
	// kit adds these transitions itself.
	EventReview = "review"
)

// builtinEvents need no declaration in Flow.Events.
var builtinEvents = []string{EventNext, EventFail, EventChange}

// MaxText is the longest message the engine reads (Telegram's own limit);
// a longer one is answered with a size-limit message.
const MaxText = 4096

// MaxCallbackData is Telegram's limit on a button's callback data.
const MaxCallbackData = 64

// ErrLoginRequired is returned by a state's Enter when the portal no longer
// accepts the customer's token; the engine runs the login flow and then
// re-enters the state.
var ErrLoginRequired = errors.New("bot: login required")

// ErrUnreadable is wrapped by a Store's Load error when a stored session
// cannot be decoded (a lost encryption key, a newer schema). The engine
// starts that conversation afresh instead of failing every update.
var ErrUnreadable = errors.New("bot: stored session unreadable")

// UserError is an expected outcome the customer must be told about, such as
// the portal being unavailable. MsgID is a locale message ID, never text.
type UserError struct {
	MsgID string
	Data  map[string]any
	Err   error
	// Warn logs Err as a warning too, for what an operator should hear of
	// (the backend down); other outcomes are the customer's business.
	Warn bool
}

func (e *UserError) Error() string {
	if e.Err != nil {
		return e.MsgID + ": " + e.Err.Error()
	}
	return e.MsgID
}

func (e *UserError) Unwrap() error { return e.Err }

// On maps an event to the state it leads to.
type On map[string]string

// Validator checks typed input. It returns the normalised value, or the
// message ID of the problem to show before re-prompting.
type Validator func(text string) (value, problem string)

// Btn is a fixed button of a state: a label message ID and the event it fires.
type Btn struct {
	Label string
	Event string
}

// Option is one choice in a List or Toggles state: a label already rendered
// for the customer (Turn.T) and the value it stands for. Options of a
// Toggles state that share a Group are exclusive (one of them is always on).
type Option struct {
	Label string
	Value string
	Group string
}

// State is one step of a flow.
//
// On entry the engine pushes login first if Auth is set and nobody is logged
// in, then runs Enter. If Enter returns an event the flow moves on at once
// (an action step); otherwise the Prompt is shown with Turn.Data and the
// Input's choices and Buttons. The Input says how the customer answers; a
// state without one is answered with its Buttons only, or is an action.
type State struct {
	Name string
	// Prompt is the message ID shown when the state waits for input.
	Prompt string
	// Enter runs on entry, outside any fsm transition and bbolt
	// transaction. It returns one of the flow's declared events to move on
	// at once, or "" to show the prompt.
	Enter func(ctx context.Context, t *Turn) (event string, err error)
	// Input is how the customer answers: Text, Secret, List, Calendar,
	// Toggles, Confirm, Review, or End for a last step.
	Input Input
	// Buttons are fixed buttons, each firing its event; they go with any
	// Input.
	Buttons []Btn
	// Auth requires a logged-in customer.
	Auth bool
	// Fresh forgets the steps before this one: /back from it leaves the
	// flow instead of returning to a step that no longer applies (the
	// rating of a closed ticket does not go back into its chat).
	Fresh bool
	// On maps events to next states.
	On On
}

// DeepLink lets "/start <Prefix><value>" open a flow at State with the
// value stored in Var.
type DeepLink struct {
	Prefix string
	Var    string
	State  string
	// Check validates the value; an invalid one opens the flow at its Start.
	Check Validator
}

// Shortcut lets a value the customer types where no answer is expected —
// at the main menu, at a step answered with buttons, or as a command's
// argument ("/track SB-104233") — open the flow at State with the value
// in Var, when Check accepts it.
type Shortcut struct {
	Check Validator
	Var   string
	State string
}

// Flow is one customer journey, declared as data.
type Flow struct {
	// Name is persisted in sessions: renaming needs a migration.
	Name  string
	Start string
	// Title is the message ID of the flow's menu label and command description.
	Title string
	// Command, if set, starts the flow from any state ("/track").
	Command string
	// Resume, if set, is the message ID that offers a returning customer
	// to go on with this flow ("You were tracking order {{.order}}"),
	// rendered with the flow's values; else a generic one names the flow.
	Resume string
	// Menu places the flow on the main menu: MenuAlways, MenuGuest (only
	// when logged out) or MenuMember (only when logged in).
	Menu     MenuMode
	DeepLink *DeepLink
	Shortcut *Shortcut
	// Phrases are what customers say when they want this journey ("where
	// is my order", "איפה ההזמנה שלי"), in every language, lower case;
	// typed text that matches none of the steps is matched against them.
	Phrases []string
	// Events are the flow's own events (button events, the outcomes its
	// Enter functions return), declared as constants next to the flow.
	// Every one must lead somewhere, and every transition must use a
	// declared or built-in event.
	Events []string
	States []State
	// Signals handle news for the conversation (Inbound.Event: a staff
	// reply, a ticket closed) while this flow is the active one; others
	// go to the engine's Config.Signals.
	Signals map[string]Signal
	// Support marks a flow that is itself a way to reach a person
	// (opening a ticket, a live chat): its dead ends do not offer
	// Config.Human, which would drop what the customer was writing.
	Support bool
	// Leave, if set, runs when the customer abandons the flow at one of
	// its Relay states (/menu, /cancel, another journey): it may Send, to
	// tell the other side of a live chat that the customer left. No I/O.
	Leave func(t *Turn)

	byName map[string]*State
	events []fsm.EventDesc
}

// Signal handles an Inbound.Event for the active flow, with the event's
// values. Like an Enter it may Say, Tell, Send or Jump; it returns one of
// the flow's events to move on, or "" to stay where the flow is without
// drawing the step again (a live chat showing a staff reply).
type Signal func(ctx context.Context, t *Turn, vars map[string]string) (event string, err error)

// MenuMode says when a flow appears on the main menu.
type MenuMode int

// Menu modes.
const (
	MenuNone MenuMode = iota
	MenuAlways
	MenuGuest
	MenuMember
)

func (f *Flow) state(name string) *State { return f.byName[name] }

// compile indexes the states, builds the fsm events and checks the graph:
// dangling targets, unreachable states, duplicate states, undeclared or
// unused events, callback data over 64 bytes, and each Input's own rules.
func (f *Flow) compile() error {
	if f.Name == "" || strings.ContainsAny(f.Name, ".|") {
		return fmt.Errorf("flow %q: bad name", f.Name)
	}
	f.byName = make(map[string]*State, len(f.States))
	for i := range f.States {
		s := &f.States[i]
		if _, dup := f.byName[s.Name]; dup {
			return fmt.Errorf("flow %s: duplicate state %s", f.Name, s.Name)
		}
		if s.Name == "" || strings.ContainsAny(s.Name, ".|") {
			return fmt.Errorf("flow %s: bad state name %q", f.Name, s.Name)
		}
		f.byName[s.Name] = s
	}
	if f.byName[f.Start] == nil {
		return fmt.Errorf("flow %s: start state %q does not exist", f.Name, f.Start)
	}
	declared := map[string]bool{}
	for _, ev := range f.Events {
		if declared[ev] || slices.Contains(builtinEvents, ev) || ev == EventReview || ev == "" {
			return fmt.Errorf("flow %s: event %q declared twice, empty or built in", f.Name, ev)
		}
		declared[ev] = true
	}
	used := map[string]bool{}
	f.events = nil
	for i := range f.States {
		s := &f.States[i]
		evs := make([]string, 0, len(s.On))
		for ev := range s.On {
			evs = append(evs, ev)
		}
		sort.Strings(evs)
		for _, ev := range evs {
			if !declared[ev] && !slices.Contains(builtinEvents, ev) {
				return fmt.Errorf("flow %s: state %s: event %q is not declared in Flow.Events", f.Name, s.Name, ev)
			}
			used[ev] = true
			dst := s.On[ev]
			if f.byName[dst] == nil {
				return fmt.Errorf("flow %s: state %s: event %s leads to missing state %q", f.Name, s.Name, ev, dst)
			}
			f.events = append(f.events, fsm.EventDesc{Name: ev, Src: []string{s.Name}, Dst: dst})
		}
		for _, b := range s.Buttons {
			if _, ok := s.On[b.Event]; !ok {
				return fmt.Errorf("flow %s: state %s: button event %s has no transition", f.Name, s.Name, b.Event)
			}
			if n := len(callbackData(f.Name, s.Name, kindEvent, b.Event)); n > MaxCallbackData {
				return fmt.Errorf("flow %s: state %s: callback data for %s is %d bytes, over %d", f.Name, s.Name, b.Event, n, MaxCallbackData)
			}
		}
		if s.Input != nil {
			if s.Prompt == "" {
				return fmt.Errorf("flow %s: state %s takes input but has no Prompt to show it", f.Name, s.Name)
			}
			if err := s.Input.check(f, s); err != nil {
				return fmt.Errorf("flow %s: state %s: %w", f.Name, s.Name, err)
			}
		} else if len(s.Buttons) == 0 && s.Enter == nil {
			return fmt.Errorf("flow %s: state %s is a dead end: no input, action or end", f.Name, s.Name)
		}
		if n := len(callbackData(f.Name, s.Name, "p", "2027-12-31")); n > MaxCallbackData {
			return fmt.Errorf("flow %s: state %s: callback data is %d bytes, over %d", f.Name, s.Name, n, MaxCallbackData)
		}
	}
	for _, ev := range f.Events {
		if !used[ev] {
			return fmt.Errorf("flow %s: event %s is declared but leads nowhere", f.Name, ev)
		}
	}
	// Transitions a kind adds itself (a Review's edit and return edges).
	for i := range f.States {
		if g, ok := f.States[i].Input.(interface {
			edges(*Flow, *State) []fsm.EventDesc
		}); ok {
			f.events = append(f.events, g.edges(f, &f.States[i])...)
		}
	}
	if f.DeepLink != nil && f.byName[f.DeepLink.State] == nil {
		return fmt.Errorf("flow %s: deep link state %q does not exist", f.Name, f.DeepLink.State)
	}
	if sc := f.Shortcut; sc != nil && (f.byName[sc.State] == nil || sc.Check == nil || sc.Var == "") {
		return fmt.Errorf("flow %s: shortcut needs a Check, a Var and an existing State (%q)", f.Name, sc.State)
	}
	// Reachability from Start (and the deep-link entry).
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, e := range f.events {
			if slices.Contains(e.Src, n) {
				walk(e.Dst)
			}
		}
	}
	walk(f.Start)
	if f.DeepLink != nil {
		walk(f.DeepLink.State)
	}
	if f.Shortcut != nil {
		walk(f.Shortcut.State)
	}
	for _, s := range f.States {
		if !seen[s.Name] {
			return fmt.Errorf("flow %s: state %s is unreachable", f.Name, s.Name)
		}
	}
	return nil
}

// messageIDs lists every message ID the flow's declaration references.
func (f *Flow) messageIDs() []string {
	var ids []string
	if f.Title != "" {
		ids = append(ids, f.Title)
	}
	if f.Resume != "" {
		ids = append(ids, f.Resume)
	}
	for _, s := range f.States {
		if s.Prompt != "" {
			ids = append(ids, s.Prompt)
		}
		for _, b := range s.Buttons {
			ids = append(ids, b.Label)
		}
		if s.Input != nil {
			ids = append(ids, s.Input.messageIDs()...)
		}
	}
	return ids
}

// machine builds a fresh fsm positioned at state. Flows never keep an fsm
// between updates: the persisted state name is the truth.
func (f *Flow) machine(state string, entered *[]string) *fsm.FSM {
	// One generic callback rather than one per state: a machine is built
	// for every update, and NewFSM sorts out each callback it is given.
	return fsm.NewFSM(state, f.events, fsm.Callbacks{
		"enter_state": func(_ context.Context, e *fsm.Event) {
			*entered = append(*entered, e.Dst)
		},
	})
}

// Mermaid renders the flow's graph as a Mermaid state diagram.
func (f *Flow) Mermaid() (string, error) {
	if f.byName == nil {
		if err := f.compile(); err != nil {
			return "", err
		}
	}
	return fsm.VisualizeForMermaidWithGraphType(f.machine(f.Start, new([]string)), fsm.StateDiagram)
}

// callbackData builds a button token: "<flow>.<state>|<kind>:<value>".
func callbackData(flow, state, kind, value string) string {
	return flow + "." + state + "|" + kind + ":" + value
}

// Global callback tokens, valid in any state, and the kinds of a state's
// own tokens.
const (
	dataMenu   = "menu|"
	dataLang   = "lang|"
	dataCmd    = "cmd|"
	cmdCancel  = "cancel"
	cmdBack    = "back"
	cmdMenu    = "menu"
	cmdLang    = "language"
	cmdHelp    = "help"
	cmdStart   = "start"
	cmdResume  = "resume" // a button only: go on with the active journey
	loginFlow  = "login"
	kindEvent  = "e" // a fixed button's event
	kindRetry  = "r" // "try again" after a portal failure
	pageSize   = 5
	maxKept    = 4096 // the longest answer kept across an idle pause
	maxDepth   = 24
	defAttempt = 5 // invalid answers to one step before the journey stops
)
