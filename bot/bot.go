// Package bot is the channel-neutral conversation engine of supportbot.
//
// It holds the domain types (Inbound, Reply, Button, Session, Flow, UserError),
// the interfaces the engine consumes (Store, Observer) and the Engine itself.
// It imports only the standard library, looplab/fsm and go-i18n; channel
// adapters live in subpackages (bot/console, bot/telegram) and import bot,
// never each other.
package bot

import (
	"time"
)

// SchemaVersion is the version of the persisted Session encoding.
const SchemaVersion = 1

// Inbound is one event from a customer, translated by a channel adapter.
type Inbound struct {
	// Key identifies the conversation: "channel:chatID", e.g. "telegram:42".
	Key string
	// UpdateID is the platform's id for this event. Redelivered ids are
	// ignored. Zero disables de-duplication for this event.
	UpdateID int64
	// Text is what the customer typed (empty for a button press).
	Text string
	// Data is the callback token of a pressed button (empty for text).
	Data string
	// MessageID is the platform id of the customer's message, or of the bot
	// message a pressed button was on. Zero if the channel has none.
	MessageID int
	// LangHint is the platform's language hint, e.g. Telegram's language_code.
	LangHint string
	// Name is the customer's display name on the platform, if known.
	Name string
	// Unsupported marks content the bot cannot read (a photo, a sticker, a
	// voice note...); the engine answers it with a short localised note.
	Unsupported bool
	// Caption is the text sent with Unsupported content (a photo's
	// caption). It is never taken as an answer; it is only checked: a card
	// number in it, or any caption at a password step, gets the message
	// deleted.
	Caption string
	// Edited marks a customer's edit of an earlier message; Text (or
	// Caption) is its new content and MessageID that message's id. The
	// engine takes no edit as an answer: one holding a card number is
	// deleted with a warning, any other is answered with a short note.
	Edited bool
	// Event, when set, is not the customer's input but news for the
	// conversation from elsewhere — a staff reply, a ticket closed — with
	// its values in Vars. The active flow's Signals handle it when they
	// name it, else the engine's Config.Signals.
	Event string
	Vars  map[string]string
}

// Button is one choice offered under a reply.
type Button struct {
	// Label is the localised text shown to the customer.
	Label string
	// Data is a short stable token (at most 64 bytes) returned when pressed.
	Data string
}

// Reply is one outgoing action for a conversation, already localised.
type Reply struct {
	// Text is the localised message text (plain text, no markup).
	Text string `json:",omitempty"`
	// Buttons are rows of choices shown under the message.
	Buttons [][]Button `json:",omitempty"`
	// EditID, when non-zero, asks the channel to replace the text and buttons
	// of its earlier message with this id instead of sending a new one.
	EditID int `json:",omitempty"`
	// DeleteID, when non-zero, asks the channel to delete the customer's
	// message with this id (a password, a card number). Text is then empty.
	DeleteID int `json:",omitempty"`
	// Secret says the customer's answer to this message is a password: a
	// terminal reads it without echo.
	Secret bool `json:",omitempty"`
	// Keep says the reply tells the customer something they need — the
	// result of a journey (a change saved, a link), or a note such as a
	// card-number warning merged on top of a screen — so a channel must
	// deliver it even when a newer screen makes it out of date.
	Keep bool `json:",omitempty"`
	// To, when set, addresses the reply to another conversation or channel
	// ("slack:T-5001" for a ticket's staff thread) instead of the
	// customer's: the store files it under that key, so that channel's
	// adapter delivers it.
	To string `json:",omitempty"`
	// Vars carry structured values for a staff channel, which builds its
	// own message from them (the ticket, the customer, the event).
	Vars map[string]string `json:",omitempty"`
}

// Envelope is a Reply committed to the outbox, waiting for delivery.
type Envelope struct {
	// ID is the outbox sequence number, increasing in commit order.
	ID uint64
	// Key is the conversation the reply goes to.
	Key string
	// Lang is the language the reply was rendered in.
	Lang  string `json:",omitempty"`
	Reply Reply
	// UpdateID is the update whose handling committed the reply, for the
	// channel's logs: set by Engine.Handle, never stored, so zero in what
	// Pending returns.
	UpdateID int64 `json:"-"`
}

// Frame is one running flow on a session's flow stack.
type Frame struct {
	Flow  string `json:"flow"`
	State string `json:"state"`
	// History holds the states visited, for /back.
	History []string `json:"history,omitempty"`
	// Vars are the values the customer has given in this flow.
	Vars map[string]string `json:"vars,omitempty"`
	// Attempts counts invalid inputs in the current state.
	Attempts int `json:"attempts,omitempty"`
	// Pages remembers the page each list state showed, so /back returns to it.
	Pages map[string]int `json:"pages,omitempty"`
}

// Session is the persisted state of one conversation.
type Session struct {
	Version int    `json:"v"`
	Key     string `json:"key"`
	// Lang is the customer's chosen language ("en", "he"); empty means not chosen.
	Lang string `json:"lang,omitempty"`
	// Hint is the platform's last language hint (Telegram's
	// language_code), for replies to news from elsewhere, which has none.
	Hint string `json:"hint,omitempty"`
	// Stack is the flow stack; the last frame is the active flow.
	Stack []Frame `json:"stack,omitempty"`
	// Token is the portal access token of a logged-in customer. The store
	// encrypts it at rest.
	Token string `json:"token,omitempty"`
	// Customer is the logged-in customer's display name.
	Customer string `json:"customer,omitempty"`
	// Email is the logged-in customer's email.
	Email string `json:"email,omitempty"`
	// LoginFails counts consecutive wrong passwords; LockedUntil is set when
	// they reach the limit.
	LoginFails  int       `json:"login_fails,omitempty"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	// PasswordFails counts wrong current passwords typed to change the
	// password; PasswordLockedUntil is set when they reach the limit. Both
	// outlive /start and restarts, like the login lock-out.
	PasswordFails       int       `json:"password_fails,omitempty"`
	PasswordLockedUntil time.Time `json:"password_locked_until,omitzero"`
	// GuestMisses counts order number + email pairs a guest got wrong;
	// GuestLockedUntil is set when they reach the limit. Both outlive
	// /start and restarts, so a chat cannot guess without end.
	GuestMisses      int       `json:"guest_misses,omitempty"`
	GuestLockedUntil time.Time `json:"guest_locked_until,omitzero"`
	// Secrets are passwords a flow must hold for a few steps (the current
	// and the new one, to change a password), by name, for the flow named
	// SecretsFlow only: the engine drops them as soon as that flow is no
	// longer the active one. The store encrypts them at rest.
	Secrets     map[string]string `json:"secrets,omitempty"`
	SecretsFlow string            `json:"secrets_flow,omitempty"`
	// Updated is when the session last handled an update.
	Updated time.Time `json:"updated"`
	// Rev is the stored session's revision as Load read it (0: none
	// stored), opaque to all but the store, which may refuse a Commit whose
	// session is not the one stored (ErrConflict). Never persisted.
	Rev int64 `json:"-"`
	// Inactive is set when the channel reports the customer unreachable
	// (for example they blocked the bot).
	Inactive bool `json:"inactive,omitempty"`
}

// Top returns the active frame, or nil when no flow runs.
func (s *Session) Top() *Frame {
	if len(s.Stack) == 0 {
		return nil
	}
	return &s.Stack[len(s.Stack)-1]
}

// Command is a slash command with its localised description.
type Command struct {
	Name        string
	Description string
}

// Commit is what one handled update changes, written in one transaction.
type Commit struct {
	Session Session
	// UpdateID is recorded as handled (zero: nothing recorded).
	UpdateID int64
	// Replies are appended to the outbox; the store assigns their IDs and
	// Key, and returns them.
	Replies []Reply
	Lang    string
}

// dropSecrets forgets held passwords once the flow that holds them is no
// longer the active one (finished, cancelled, timed out, replaced).
func (s *Session) dropSecrets() {
	if top := s.Top(); top == nil || top.Flow != s.SecretsFlow {
		s.Secrets, s.SecretsFlow = nil, ""
	}
}

// Logout forgets the logged-in customer and any password held for them.
func (s *Session) Logout() {
	s.Token, s.Customer, s.Email = "", "", ""
	s.Secrets, s.SecretsFlow = nil, ""
}
