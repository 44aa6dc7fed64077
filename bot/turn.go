package bot

import (
	crand "crypto/rand"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Turn is what a state's Enter sees and changes while one update is handled.
type Turn struct {
	// Session is the conversation; Enter may read it and set its login fields.
	Session *Session
	// Lang is the language replies are rendered in.
	Lang string
	// Now is the engine clock's time for this update.
	Now time.Time
	// Secret is the value typed into a Secret state during this update
	// (a password). It is never stored.
	Secret string
	// Data is merged over the flow's Vars as the prompt's template data.
	Data map[string]any
	// Options are a list state's choices for the current page.
	Options []Option
	// More reports that a page after the current one exists.
	More bool

	frame *Frame
	r     *run
	jump  *Frame
}

// Var returns a value the customer gave earlier in this flow.
func (t *Turn) Var(name string) string { return t.frame.Vars[name] }

// Set stores a value in this flow's Vars.
func (t *Turn) Set(name, value string) {
	if t.frame.Vars == nil {
		t.frame.Vars = map[string]string{}
	}
	t.frame.Vars[name] = value
}

// Page returns the 1-based page a list state shows, at most maxPage (a
// page saved beyond it is shown as the last page there is).
func (t *Turn) Page() int {
	if p := t.frame.Pages[t.frame.State]; p > 1 {
		return min(p, maxPage)
	}
	return 1
}

// SetPage changes the page a list state shows (to clamp a stale page
// number to the last page).
func (t *Turn) SetPage(n int) {
	if t.frame.Pages == nil {
		t.frame.Pages = map[string]int{}
	}
	t.frame.Pages[t.frame.State] = n
}

// PageSize is how many options a list state shows per page.
func (t *Turn) PageSize() int { return pageSize }

// Say queues a message before the next prompt.
func (t *Turn) Say(msgID string, data map[string]any) {
	t.r.outs = append(t.r.outs, out{id: msgID, data: data})
}

// Tell adds a note the customer must get even if a newer screen follows
// before it is sent (a staff reply, a ticket closed): Reply.Keep.
func (t *Turn) Tell(msgID string, data map[string]any) {
	t.r.outs = append(t.r.outs, out{id: msgID, data: data, keep: true})
}

// Send commits a message for another conversation or channel with this
// update — a customer's words for their ticket's staff thread, to:
// "slack:T-5001" — so it is delivered exactly when this update's changes
// are: text is passed on as it is, with vars for that channel.
func (t *Turn) Send(to, text string, vars map[string]string) {
	t.r.outs = append(t.r.outs, out{text: text, to: to, vars: vars})
}

// T renders a message in the customer's language, for use inside another
// message's data (a list line, a status name).
func (t *Turn) T(msgID string, data map[string]any) string {
	return t.r.keep(t.r.e.fragmentLog(t.r.log, t.Lang, msgID, data, nil))
}

// N renders a plural message for count n.
func (t *Turn) N(msgID string, n int, data map[string]any) string {
	d := map[string]any{"Count": n}
	for k, v := range data {
		d[k] = v
	}
	return t.r.keep(t.r.e.fragmentLog(t.r.log, t.Lang, msgID, d, n))
}

// Date renders a date without ambiguity: "4 Mar 2027" / "4 במרץ 2027",
// the day as it is in Israel (a calendar day, at midnight UTC, stays that
// day).
func (t *Turn) Date(d time.Time) string {
	d = d.In(Israel)
	return t.T("common.date", map[string]any{
		"Day":   strconv.Itoa(d.Day()),
		"Month": t.T("common.month."+strconv.Itoa(int(d.Month())), nil),
		"Year":  strconv.Itoa(d.Year()),
	})
}

// DateTime renders a date with the time of day in Israel: "4 Mar 2027, 14:05".
func (t *Turn) DateTime(d time.Time) string {
	d = d.In(Israel)
	return t.T("common.datetime", map[string]any{"Date": t.Date(d), "Time": d.Format("15:04")})
}

// Log returns the logger of this update: its lines carry the chat and the
// update id. Never log what the customer typed (see UpdateLogger).
func (t *Turn) Log() *slog.Logger { return t.r.log }

// PlatformName is the customer's display name on the platform (Telegram's
// first and last name), or "" when it did not say.
func (t *Turn) PlatformName() string { return strings.TrimSpace(t.r.in.Name) }

// Key is the conversation's key ("telegram:42").
func (t *Turn) Key() string { return t.Session.Key }

// UpdateKey is an Idempotency-Key for a write made once per update (a
// message passed to staff): the same update handled again after a crash
// gets the same key, so the write is not applied twice.
func (t *Turn) UpdateKey() string {
	if t.r.in.UpdateID == 0 {
		return crand.Text()
	}
	return t.Session.Key + "/" + strconv.FormatInt(t.r.in.UpdateID, 10)
}

// LoggedIn reports whether a customer is logged in.
func (t *Turn) LoggedIn() bool { return t.Session.Token != "" }

// Held returns a password a Secret input with Keep: name holds, or "".
func (t *Turn) Held(name string) string { return t.Session.Secrets[name] }

// Forget drops every held password (once they have been used).
func (t *Turn) Forget() { t.Session.Secrets, t.Session.SecretsFlow = nil, "" }

// Has reports whether the flow holds a value for name, even an empty one.
func (t *Turn) Has(name string) bool {
	_, ok := t.frame.Vars[name]
	return ok
}

// Today is the current day in Israel, where the company works, as a date
// at midnight UTC (the form Calendar and ParseDate use).
func (t *Turn) Today() time.Time {
	n := t.Now.In(Israel)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// WriteKey returns the Idempotency-Key for the flow's next portal write.
// A Confirm state draws a fresh one each time it is shown and commits it
// with the screen, so the write after it, and every "try again" of that
// write, carries the same key; a write without a Confirm before it gets one
// here, kept until the flow ends.
func (t *Turn) WriteKey() string {
	k := t.frame.Vars[varWriteKey]
	if k == "" {
		k = crand.Text()
		t.Set(varWriteKey, k)
	}
	return k
}

// NewWriteKey starts a new write: WriteKey returns a fresh key from now on,
// committed with this update. Call it where a repeatable write is offered
// (send the settings again) or after the portal refused one.
func (t *Turn) NewWriteKey() { t.Set(varWriteKey, crand.Text()) }

// Cached returns what Cache stored under key during this update.
func (t *Turn) Cached(key string) (any, bool) {
	v, ok := t.r.memo[key]
	return v, ok
}

// Cache keeps v under key until the update is handled, so later steps of
// the same update need not fetch it again.
func (t *Turn) Cache(key string, v any) {
	if t.r.memo == nil {
		t.r.memo = map[string]any{}
	}
	t.r.memo[key] = v
}

// Jump ends the current flow and starts flow at its first state with vars
// (My plans handing the chosen plan to the SIM journey). Enter must return
// no event when it jumps.
func (t *Turn) Jump(flow string, vars map[string]string) {
	t.jump = &Frame{Flow: flow, Vars: vars}
}
