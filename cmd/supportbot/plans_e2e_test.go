package main

import (
	"context"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot/telegram/telegramtest"
	"supportbot/portal"
	"supportbot/portal/demo"
)

// The plan journeys end to end: Main on the fake Bot API through the real
// Telegram adapter, the demo portal served on its own and given to Main as
// its portal URL, and every change read back from the portal with a client
// of the test's own.

// planEpoch is the clock's first reading in these tests, as in the golden
// transcripts: Dana's US plan P-2002 (20 Nov – 19 Dec 2026) starts today.
var planEpoch = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// Demo logins (portal/demo/README.md).
const (
	danaEmail       = "dana.levi@example.com"
	danaPassword    = "demo-dana"
	michaelEmail    = "michael.cohen@example.com"
	michaelPassword = "demo-michael"
)

// planWorld is a running Main and the demo portal it talks to.
type planWorld struct {
	*app
	portalURL string
}

// openPlanWorld starts the demo portal on an httptest server and a Main on
// a fake Bot API configured with that portal's URL; both read one clock
// that starts at planEpoch and runs on in real time.
func openPlanWorld(t *testing.T) *planWorld {
	t.Helper()
	return openPlanWorldWith(t, nil)
}

// openPlanWorldWith is openPlanWorld with the configuration changed by edit.
func openPlanWorldWith(t *testing.T, edit func(*Config)) *planWorld {
	t.Helper()
	base := time.Now()
	clock := func() time.Time { return planEpoch.Add(time.Since(base)) }
	ps := httptest.NewServer(demo.New(demo.Options{Now: clock}))
	t.Cleanup(ps.Close) // after Main stops: cleanups run last first
	srv := telegramtest.NewServer(t)
	cfg := config(srv, t.TempDir())
	cfg.PortalURL = ps.URL
	if edit != nil {
		edit(&cfg)
	}
	a := openAppAt(t, srv, cfg, nil, clock)
	if a.m.PortalURL != ps.URL || a.m.stopPortal != nil {
		t.Fatalf("Main uses portal %q (embedded demo started: %t), want the configured %q", a.m.PortalURL, a.m.stopPortal != nil, ps.URL)
	}
	return &planWorld{app: a, portalURL: ps.URL}
}

// plan reads plan id as the portal has it, logged in as email with a
// client separate from the bot's.
func (w *planWorld) plan(email, password, id string) portal.Plan {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c := portal.NewClient(w.portalURL)
	auth, err := c.Login(ctx, email, password)
	if err != nil {
		w.t.Fatalf("portal login as %s: %v", email, err)
	}
	p, err := c.Plan(ctx, auth.Token, id)
	if err != nil {
		w.t.Fatalf("portal plan %s: %v", id, err)
	}
	return p
}

// customer is one Telegram user chatting with the bot.
type customer struct {
	w       *planWorld
	u       telegramtest.User
	queries []int64 // update ids of the button presses
}

func (w *planWorld) customer(id int64, name, lang string) *customer {
	return &customer{w: w, u: telegramtest.User{ID: id, FirstName: name, LanguageCode: lang}}
}

func (c *customer) say(text string) { c.w.srv.PushText(c.u, text) }

// press presses the button carrying data on m, which must have it.
func (c *customer) press(m telegramtest.Message, data string) {
	c.w.t.Helper()
	if !buttonID(m, data) {
		c.w.t.Fatalf("message #%d has no button %q:\n%s", m.ID, data, dump([]telegramtest.Message{m}))
	}
	c.queries = append(c.queries, c.w.srv.PushCallback(c.u, m.ID, data))
}

// await waits for a bot message newer than after for which ok holds.
func (c *customer) await(after int, what string, ok func(telegramtest.Message) bool) telegramtest.Message {
	c.w.t.Helper()
	return c.w.await(c.u.ID, after, what, ok)
}

// awaitEdit waits until the bot message id, edited in place, satisfies ok,
// and returns it.
func (c *customer) awaitEdit(id int, what string, ok func(telegramtest.Message) bool) telegramtest.Message {
	c.w.t.Helper()
	return c.await(id-1, what, func(m telegramtest.Message) bool { return m.ID == id && ok(m) })
}

// logIn answers the login that askEmail opened, email then password, and
// returns the first bot message after the password for which next holds.
// The password message must be deleted, by its id.
func (c *customer) logIn(askEmail telegramtest.Message, email, password, what string, next func(telegramtest.Message) bool) telegramtest.Message {
	c.w.t.Helper()
	c.say(email)
	askPassword := c.await(askEmail.ID, "the password prompt", containing(email))
	// The password prompt is the only reply to the email, so the next
	// message id is the password's.
	passwordID := c.w.lastID(c.u.ID) + 1
	c.say(password)
	got := c.await(askPassword.ID, what, next)
	deleted := func(call telegramtest.Call) bool {
		return call.ChatID == c.u.ID && call.MessageID == passwordID && call.OK()
	}
	if !c.w.srv.WaitFor(wait, func() bool { return slices.ContainsFunc(c.w.srv.Calls("deleteMessage"), deleted) }) {
		c.w.t.Errorf("password message #%d not deleted; deleteMessage calls: %+v", passwordID, c.w.srv.Calls("deleteMessage"))
	}
	return got
}

// finish checks what every conversation owes: each button press answered,
// only inline keyboards with valid callback data, the password in no call
// the bot made, and no warning logged.
func (c *customer) finish(password string) {
	c.w.t.Helper()
	if !c.w.srv.WaitFor(wait, func() bool {
		for _, id := range c.queries {
			if !c.w.srv.Answered("cb" + strconv.FormatInt(id, 10)) {
				return false
			}
		}
		return true
	}) {
		c.w.t.Errorf("not every callback query was answered: %v", c.queries)
	}
	checkMarkup(c.w.t, c.w.srv.Calls(""))
	for _, call := range c.w.srv.Calls("") {
		for k, v := range call.Fields {
			if password != "" && strings.Contains(v, password) {
				c.w.t.Errorf("%s field %s holds the password", call.Method, k)
			}
		}
	}
	c.w.noWarnings()
	c.w.t.Logf("conversation:\n%s", dump(c.w.botMessages(c.u.ID)))
}

// buttonText returns the label of m's button carrying data.
func buttonText(m telegramtest.Message, data string) string {
	if m.Markup == nil {
		return ""
	}
	for _, row := range m.Markup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData == data {
				return b.Text
			}
		}
	}
	return ""
}

// edits returns the successful editMessageText calls on message id in chat.
func (w *planWorld) edits(chat int64, id int) []telegramtest.Call {
	return slices.DeleteFunc(w.srv.Calls("editMessageText"), func(c telegramtest.Call) bool {
		return c.ChatID != chat || c.MessageID != id || !c.OK()
	})
}

// botMessagesBetween returns the bot's messages in chat with ids strictly
// between from and to.
func (w *planWorld) botMessagesBetween(chat int64, from, to int) []telegramtest.Message {
	return slices.DeleteFunc(w.botMessages(chat), func(m telegramtest.Message) bool { return m.ID <= from || m.ID >= to })
}

// TestTelegramPlanForwarding: Michael, with one plan forwarded to his US
// phone, moves the forwarding to an Israeli number typed the local way.
// The plan is chosen without asking; nothing changes in the portal before
// Confirm, and after it the portal forwards to the number in E.164.
func TestTelegramPlanForwarding(t *testing.T) {
	const chat = 6101
	w := openPlanWorld(t)
	if diff := cmp.Diff(portal.Forwarding{Enabled: true, To: "+13125550123"}, w.plan(michaelEmail, michaelPassword, "P-2004").Forwarding); diff != "" {
		t.Fatalf("P-2004 forwarding before the test (-want +got):\n%s", diff)
	}
	c := w.customer(chat, "Michael", "en")
	plan := map[string]any{"Name": "Israel Traveler 30", "Number": "+972 58-765-4321"}
	with := func(kv ...string) map[string]any {
		m := map[string]any{"Name": plan["Name"], "Number": plan["Number"]}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	c.say("/forwarding")
	askEmail := c.await(0, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	status := c.logIn(askEmail, michaelEmail, michaelPassword, "the forwarding status", hasButton("forwarding.status_on|e:set"))
	// One message: the login note on top of the status.
	if want := msg(t, "en", "login.done.prompt", map[string]any{"Name": "Michael Cohen"}) + "\n\n" + msg(t, "en", "forwarding.status_on.prompt", with("ForwardingState", "to +1 312-555-0123")); status.Text != want {
		t.Errorf("status text = %q, want %q", status.Text, want)
	}
	if got := w.botMessagesBetween(chat, askEmail.ID, status.ID); slices.ContainsFunc(got, hasButton("forwarding.choose_plan|v:P-2004")) {
		t.Errorf("asked to choose Michael's only plan:\n%s", dump(got))
	}

	c.press(status, "forwarding.status_on|e:set")
	ask := c.await(status.ID, "the number prompt", containing(msg(t, "en", "forwarding.ask_number.prompt", plan)))

	c.say("050-123-4567")
	confirm := c.await(ask.ID, "the confirm screen", hasButton("forwarding.confirm_set|k:"))
	if want := msg(t, "en", "forwarding.confirm_set.prompt", with("ForwardingState", "to +1 312-555-0123", "new_to", "+972 50-123-4567")); confirm.Text != want {
		t.Errorf("confirm text = %q, want %q", confirm.Text, want)
	}
	if diff := cmp.Diff(portal.Forwarding{Enabled: true, To: "+13125550123"}, w.plan(michaelEmail, michaelPassword, "P-2004").Forwarding); diff != "" {
		t.Errorf("forwarding changed before Confirm (-want +got):\n%s", diff)
	}

	c.press(confirm, "forwarding.confirm_set|k:")
	c.await(confirm.ID, "the saved notice", containing(msg(t, "en", "forwarding.done_set.prompt", with("ForwardingState", "to +972 50-123-4567"))))

	got := w.plan(michaelEmail, michaelPassword, "P-2004")
	if diff := cmp.Diff(portal.Forwarding{Enabled: true, To: "+972501234567"}, got.Forwarding); diff != "" {
		t.Errorf("P-2004 forwarding in the portal (-want +got):\n%s", diff)
	}
	c.finish(michaelPassword)
}

// TestTelegramPlanVoicemail: Dana, in Hebrew, switches the voicemail of
// P-2001 off and its greeting to English. Each toggle edits the settings
// message in place (editMessageText on its id, no new message); Update
// plan and Confirm then save it, and the portal has voicemail off, in
// English.
func TestTelegramPlanVoicemail(t *testing.T) {
	const chat = 6102
	w := openPlanWorld(t)
	if diff := cmp.Diff(portal.Voicemail{Enabled: true, Lang: portal.LangHebrew}, w.plan(danaEmail, danaPassword, "P-2001").Voicemail); diff != "" {
		t.Fatalf("P-2001 voicemail before the test (-want +got):\n%s", diff)
	}
	c := w.customer(chat, "Dana", "he")

	c.say("/voicemail")
	askEmail := c.await(0, "the email prompt", containing(msg(t, "he", "login.ask_email.prompt", nil)))
	choose := c.logIn(askEmail, danaEmail, danaPassword, "the plan list", hasButton("voicemail.choose_plan|v:P-2001"))

	c.press(choose, "voicemail.choose_plan|v:P-2001")
	settings := c.await(choose.ID, "the voicemail settings", hasButton("voicemail.settings|t:on"))
	const (
		on   = "voicemail.settings|t:on"
		he   = "voicemail.settings|t:he"
		en   = "voicemail.settings|t:en"
		done = "voicemail.settings|k:"
	)
	// marks are the state the toggles show: a checkbox for on, radio
	// buttons for the language.
	marks := func(m telegramtest.Message) []string {
		var out []string
		for _, d := range []string{on, he, en} {
			label, _, _ := strings.Cut(buttonText(m, d), " ")
			out = append(out, label)
		}
		return out
	}
	if diff := cmp.Diff([]string{"✅", "🔘", "⚪"}, marks(settings)); diff != "" {
		t.Errorf("toggles at first (on, he, en) (-want +got):\n%s", diff)
	}

	c.press(settings, on)
	settings = c.awaitEdit(settings.ID, "voicemail switched off", func(m telegramtest.Message) bool { return marks(m)[0] == "⬜" })
	if n := len(w.awaitEdits(chat, settings.ID, 1)); n != 1 {
		t.Errorf("after the first toggle: %d editMessageText calls on #%d, want 1", n, settings.ID)
	}
	c.press(settings, en)
	settings = c.awaitEdit(settings.ID, "English chosen", func(m telegramtest.Message) bool { return marks(m)[2] == "🔘" })
	if diff := cmp.Diff([]string{"⬜", "⚪", "🔘"}, marks(settings)); diff != "" {
		t.Errorf("toggles after the presses (on, he, en) (-want +got):\n%s", diff)
	}

	c.press(settings, done)
	confirm := c.await(settings.ID, "the confirm screen", hasButton("voicemail.confirm|k:"))
	// The two toggles edited the settings message and sent nothing new.
	if got := w.awaitEdits(chat, settings.ID, 2); len(got) != 2 {
		t.Errorf("%d editMessageText calls on the settings message #%d, want 2 (one per toggle): %+v", len(got), settings.ID, got)
	}
	if got := w.botMessagesBetween(chat, settings.ID, confirm.ID); len(got) != 0 {
		t.Errorf("new messages between the settings and the confirm screen:\n%s", dump(got))
	}
	if diff := cmp.Diff(portal.Voicemail{Enabled: true, Lang: portal.LangHebrew}, w.plan(danaEmail, danaPassword, "P-2001").Voicemail); diff != "" {
		t.Errorf("voicemail changed before Confirm (-want +got):\n%s", diff)
	}

	c.press(confirm, "voicemail.confirm|k:")
	c.await(confirm.ID, "the saved notice and the menu", hasButton("menu|track"))

	got := w.plan(danaEmail, danaPassword, "P-2001")
	if diff := cmp.Diff(portal.Voicemail{Enabled: false, Lang: portal.LangEnglish}, got.Voicemail); diff != "" {
		t.Errorf("P-2001 voicemail in the portal (-want +got):\n%s", diff)
	}
	// Every text Dana saw is Hebrew, laid out right to left.
	for _, call := range w.srv.Calls("") {
		if (call.Method == "sendMessage" || call.Method == "editMessageText") && (!hasHebrew(call.Text) || !startsRTL(call.Text)) {
			t.Errorf("%s text is not Hebrew starting right to left: %q", call.Method, call.Text)
		}
	}
	c.finish(danaPassword)
}

// TestTelegramPlanDates: Dana moves the end of P-2002 into January on the
// inline calendar: End date, the next-month arrow (the calendar is edited
// in place), a day, Continue, Confirm. The portal has the new end date and
// the start date it had.
func TestTelegramPlanDates(t *testing.T) {
	const chat = 6103
	w := openPlanWorld(t)
	before := w.plan(danaEmail, danaPassword, "P-2002")
	if before.StartDate.String() != "2026-11-20" || before.EndDate.String() != "2026-12-19" {
		t.Fatalf("P-2002 runs %s – %s before the test, want 2026-11-20 – 2026-12-19", before.StartDate, before.EndDate)
	}
	c := w.customer(chat, "Dana", "en")
	plan := map[string]any{"Name": "USA Talk & Text 30", "Number": "+1 212-555-0147"}

	c.say("/dates")
	askEmail := c.await(0, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	choose := c.logIn(askEmail, danaEmail, danaPassword, "the plan list", hasButton("dates.choose_plan|v:P-2002"))

	c.press(choose, "dates.choose_plan|v:P-2002")
	review := c.await(choose.ID, "the dates review", hasButton("dates.review|f:pick_end"))

	c.press(review, "dates.review|f:pick_end")
	cal := c.await(review.ID, "the December calendar", hasButton("dates.pick_end|d:2026-12-19"))
	c.press(cal, "dates.pick_end|m:2027-01")
	cal = c.awaitEdit(cal.ID, "the January calendar", hasButton("dates.pick_end|d:2027-01-15"))
	if n := len(w.awaitEdits(chat, cal.ID, 1)); n != 1 {
		t.Errorf("%d editMessageText calls on the calendar #%d after the month arrow, want 1", n, cal.ID)
	}

	c.press(cal, "dates.pick_end|d:2027-01-15")
	review = c.await(cal.ID, "the review with the new end", func(m telegramtest.Message) bool {
		return buttonID(m, "dates.review|k:") && strings.Contains(m.Text, "15 Jan 2027")
	})

	c.press(review, "dates.review|k:")
	confirm := c.await(review.ID, "the confirm screen", hasButton("dates.confirm|k:"))
	wantConfirm := msg(t, "en", "dates.confirm.prompt", map[string]any{"Name": plan["Name"], "Number": plan["Number"],
		"OldStart": "20 Nov 2026", "NewStart": "20 Nov 2026", "OldEnd": "19 Dec 2026", "NewEnd": "15 Jan 2027"})
	if confirm.Text != wantConfirm {
		t.Errorf("confirm text = %q, want %q", confirm.Text, wantConfirm)
	}
	if p := w.plan(danaEmail, danaPassword, "P-2002"); p.EndDate != before.EndDate {
		t.Errorf("end date changed before Confirm: %s", p.EndDate)
	}

	c.press(confirm, "dates.confirm|k:")
	c.await(confirm.ID, "the saved notice", containing(msg(t, "en", "dates.done.prompt",
		map[string]any{"Name": plan["Name"], "Start": "20 Nov 2026", "End": "15 Jan 2027"})))

	got := w.plan(danaEmail, danaPassword, "P-2002")
	if diff := cmp.Diff([2]string{"2026-11-20", "2027-01-15"}, [2]string{got.StartDate.String(), got.EndDate.String()}); diff != "" {
		t.Errorf("P-2002 start and end in the portal (-want +got):\n%s", diff)
	}
	c.finish(danaPassword)
}

// TestTelegramPlanCalendarGrid: over Telegram the calendar keeps its grid,
// a month row of three buttons (arrows and title), then rows of seven
// (weekdays, then weeks padded with blank cells), then Back and Cancel, so
// each day sits under its weekday. (The adapter drops a button with a
// blank label, and with it a padding cell, shifting the days.)
func TestTelegramPlanCalendarGrid(t *testing.T) {
	const chat = 6104
	w := openPlanWorld(t)
	c := w.customer(chat, "Dana", "en")
	c.say("/dates")
	askEmail := c.await(0, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	choose := c.logIn(askEmail, danaEmail, danaPassword, "the plan list", hasButton("dates.choose_plan|v:P-2002"))
	c.press(choose, "dates.choose_plan|v:P-2002")
	review := c.await(choose.ID, "the dates review", hasButton("dates.review|f:pick_end"))
	c.press(review, "dates.review|f:pick_end")
	// December 2026 starts on a Tuesday and ends on a Thursday: both its
	// first and its last week need blanks.
	cal := c.await(review.ID, "the December calendar", hasButton("dates.pick_end|d:2026-12-19"))

	var got []int
	for _, row := range cal.Markup.InlineKeyboard {
		got = append(got, len(row))
	}
	// Month, weekdays, five weeks, Back and Cancel.
	if diff := cmp.Diff([]int{3, 7, 7, 7, 7, 7, 7, 2}, got); diff != "" {
		t.Fatalf("calendar buttons per row (-want +got):\n%s\n%s", diff, dump([]telegramtest.Message{cal}))
	}
	// Each day is in its weekday's column (Sunday first, in English).
	const dayData = "dates.pick_end|d:"
	days := 0
	for _, row := range cal.Markup.InlineKeyboard[2:7] {
		for col, b := range row {
			v, ok := strings.CutPrefix(b.CallbackData, dayData)
			if !ok {
				continue
			}
			days++
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				t.Fatalf("button %q: %v", b.CallbackData, err)
			}
			if col != int(d.Weekday()) {
				t.Errorf("%s (%s) is in column %d, want %d", v, d.Weekday(), col, int(d.Weekday()))
			}
		}
	}
	if days != 31 {
		t.Errorf("%d days of December can be pressed, want 31 (any day from today to 366 days after the start)", days)
	}
	c.finish(danaPassword)
}

// TestTelegramPlanCommands: the command menu registered with setMyCommands
// has the plan and account commands, in English and in Hebrew, each with
// its description from the locales.
func TestTelegramPlanCommands(t *testing.T) {
	w := openPlanWorld(t)
	names := []string{"plans", "sim", "dates", "voicemail", "apn", "usage", "forwarding", // plans
		"account", "profile", "emails", "addresses", "card"} // account
	for _, lang := range []string{"en", "he"} {
		if !w.srv.WaitFor(wait, func() bool { return len(w.srv.Commands(lang)) > 0 }) {
			t.Fatalf("no setMyCommands for language_code %q; calls: %+v", lang, w.srv.Calls("setMyCommands"))
		}
		got := map[string]string{}
		for _, cm := range w.srv.Commands(lang) {
			if slices.Contains(names, cm.Command) {
				got[cm.Command] = cm.Description
			}
		}
		want := map[string]string{}
		for _, n := range names {
			want[n] = msg(t, lang, "cmd."+n, nil)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("plan and account commands for %s (-want +got):\n%s", lang, diff)
		}
	}
	w.noWarnings()
}
