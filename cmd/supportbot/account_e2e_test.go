package main

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot/telegram/telegramtest"
	"supportbot/portal"
)

// The account journeys end to end, as the plan journeys are (see
// plans_e2e_test.go): Main on the fake Bot API through the real Telegram
// adapter, the demo portal served on its own, every change read back from
// the portal with a client of the test's own.

// More demo logins (portal/demo/README.md).
const (
	noaEmail      = "noa.peretz@example.com"
	noaPassword   = "demo-noa"
	sarahEmail    = "sarah.johnson@example.com"
	sarahPassword = "demo-sarah"
)

// portalAs logs in to the portal as email with a client separate from the
// bot's and returns a context for the calls, the client and the token.
func (w *planWorld) portalAs(email, password string) (context.Context, *portal.Client, string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	w.t.Cleanup(cancel)
	c := portal.NewClient(w.portalURL)
	auth, err := c.Login(ctx, email, password)
	if err != nil {
		w.t.Fatalf("portal login as %s: %v", email, err)
	}
	return ctx, c, auth.Token
}

// me reads the customer's profile as the portal has it.
func (w *planWorld) me(email, password string) portal.Customer {
	w.t.Helper()
	ctx, c, token := w.portalAs(email, password)
	me, err := c.Me(ctx, token)
	if err != nil {
		w.t.Fatalf("portal me as %s: %v", email, err)
	}
	return me
}

// extraEmails reads the customer's additional emails as the portal has them.
func (w *planWorld) extraEmails(email, password string) []portal.ExtraEmail {
	w.t.Helper()
	ctx, c, token := w.portalAs(email, password)
	list, err := c.Emails(ctx, token)
	if err != nil {
		w.t.Fatalf("portal emails of %s: %v", email, err)
	}
	return list
}

// addressBook reads the customer's address book as the portal has it.
func (w *planWorld) addressBook(email, password string) []portal.Address {
	w.t.Helper()
	ctx, c, token := w.portalAs(email, password)
	list, err := c.Addresses(ctx, token)
	if err != nil {
		w.t.Fatalf("portal addresses of %s: %v", email, err)
	}
	return list
}

// deleted reports whether the bot deleted message id of the customer's
// chat, waiting for it; it fails the test if not.
func (c *customer) deleted(id int, what string) bool {
	c.w.t.Helper()
	ok := func(call telegramtest.Call) bool {
		return call.ChatID == c.u.ID && call.MessageID == id && call.OK()
	}
	if !c.w.srv.WaitFor(wait, func() bool { return slices.ContainsFunc(c.w.srv.Calls("deleteMessage"), ok) }) {
		c.w.t.Errorf("%s (message #%d) not deleted; deleteMessage calls: %+v", what, id, c.w.srv.Calls("deleteMessage"))
		return false
	}
	return true
}

// sayDeleted types text, which the bot must delete by its message id, and
// returns the first bot message newer than after for which next holds,
// and the id text had.
func (c *customer) sayDeleted(after int, text, what string, next func(telegramtest.Message) bool) (telegramtest.Message, int) {
	c.w.t.Helper()
	// The last message is the bot's prompt, still there: the next id is
	// the text's.
	id := c.w.lastID(c.u.ID) + 1
	c.say(text)
	got := c.await(after, what, next)
	c.deleted(id, "message "+strconv.Quote(text))
	return got, id
}

// noneHolds fails the test for any call the bot made to the Bot API, any
// message left in the chat and any log line that holds one of secrets.
func (c *customer) noneHolds(secrets ...string) {
	c.w.t.Helper()
	for _, s := range secrets {
		for _, call := range c.w.srv.Calls("") {
			for k, v := range call.Fields {
				if strings.Contains(v, s) {
					c.w.t.Errorf("%s field %s holds %q: %q", call.Method, k, s, v)
				}
			}
		}
		for _, m := range c.w.srv.Messages(c.u.ID) {
			if strings.Contains(m.Text, s) {
				c.w.t.Errorf("message #%d (from bot: %t) still in the chat holds %q", m.ID, m.FromBot, s)
			}
		}
		if strings.Contains(c.w.logs.String(), s) {
			c.w.t.Errorf("%q logged", s)
		}
	}
}

// marks returns the state each toggle button carrying one of data shows:
// the mark before the first space of its label ("✅" or "⬜").
func marks(m telegramtest.Message, data ...string) []string {
	var out []string
	for _, d := range data {
		mark, _, _ := strings.Cut(buttonText(m, d), " ")
		out = append(out, mark)
	}
	return out
}

// awaitEdits waits until n successful editMessageText calls on message id
// in chat are recorded and returns those recorded then. (The fake Bot API
// applies an edit to the message before it records the call, so a test
// that saw the edited message must wait for the call.)
func (w *planWorld) awaitEdits(chat int64, id, n int) []telegramtest.Call {
	w.srv.WaitFor(wait, func() bool { return len(w.edits(chat, id)) >= n })
	return w.edits(chat, id)
}

// allHebrew fails the test for any text the bot sent or edited that is not
// Hebrew laid out right to left.
func allHebrew(w *planWorld) {
	w.t.Helper()
	for _, call := range w.srv.Calls("") {
		if (call.Method == "sendMessage" || call.Method == "editMessageText") && (!hasHebrew(call.Text) || !startsRTL(call.Text)) {
			w.t.Errorf("%s text is not Hebrew starting right to left: %q", call.Method, call.Text)
		}
	}
}

// TestTelegramAccountName: Dana, in Hebrew, changes her name from
// /profile: Change name, the new name typed, Confirm. Nothing changes in
// the portal before Confirm; after it the portal's profile has the new
// name.
func TestTelegramAccountName(t *testing.T) {
	const (
		chat    = 6201
		oldName = "דנה לוי"
		newName = "דנה כהן לוי"
	)
	w := openPlanWorld(t)
	if got := w.me(danaEmail, danaPassword).Name; got != oldName {
		t.Fatalf("Dana's name before the test = %q, want %q", got, oldName)
	}
	c := w.customer(chat, "Dana", "he")

	c.say("/profile")
	askEmail := c.await(0, "the email prompt", containing(msg(t, "he", "login.ask_email.prompt", nil)))
	show := c.logIn(askEmail, danaEmail, danaPassword, "the profile", hasButton("profile.show|e:name"))
	if !strings.Contains(show.Text, oldName) {
		t.Errorf("profile text %q lacks the name %q", show.Text, oldName)
	}

	c.press(show, "profile.show|e:name")
	ask := c.await(show.ID, "the name prompt", containing(msg(t, "he", "profile.ask_name.prompt", map[string]any{"Name": oldName})))

	c.say(newName)
	confirm := c.await(ask.ID, "the confirm screen", hasButton("profile.confirm_name|k:"))
	if want := msg(t, "he", "profile.confirm_name.prompt", map[string]any{"Name": oldName, "name": newName}); confirm.Text != want {
		t.Errorf("confirm text = %q, want %q", confirm.Text, want)
	}
	if got := w.me(danaEmail, danaPassword).Name; got != oldName {
		t.Errorf("name changed before Confirm: %q", got)
	}

	c.press(confirm, "profile.confirm_name|k:")
	c.await(confirm.ID, "the saved notice and the menu", func(m telegramtest.Message) bool {
		return buttonID(m, "menu|track") && strings.Contains(m.Text, msg(t, "he", "profile.done_name.prompt", map[string]any{"Name": newName}))
	})

	if got := w.me(danaEmail, danaPassword).Name; got != newName {
		t.Errorf("name in the portal = %q, want %q", got, newName)
	}
	allHebrew(w)
	c.finish(danaPassword)
}

// TestTelegramAccountPassword: Dana changes her password from /profile:
// the current one, the new one and the new one again. Each of the three
// messages is deleted, by its id, as soon as it is read; no password is in
// any call the bot made, any message left or any log line; afterwards the
// portal takes the new password and refuses the old.
func TestTelegramAccountPassword(t *testing.T) {
	const (
		chat        = 6202
		newPassword = "brand-new-secret"
	)
	w := openPlanWorld(t)
	c := w.customer(chat, "Dana", "en")

	c.say("/profile")
	askEmail := c.await(0, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	show := c.logIn(askEmail, danaEmail, danaPassword, "the profile", hasButton("profile.show|e:password"))

	c.press(show, "profile.show|e:password")
	askCurrent := c.await(show.ID, "the current password prompt", containing(msg(t, "en", "profile.ask_current.prompt", nil)))

	askNew, currentID := c.sayDeleted(askCurrent.ID, danaPassword, "the new password prompt",
		containing(msg(t, "en", "profile.ask_new.prompt", nil)))
	askRepeat, newID := c.sayDeleted(askNew.ID, newPassword, "the repeat prompt",
		containing(msg(t, "en", "profile.ask_repeat.prompt", nil)))
	_, repeatID := c.sayDeleted(askRepeat.ID, newPassword, "the changed notice", func(m telegramtest.Message) bool {
		return buttonID(m, "menu|track") && strings.Contains(m.Text, msg(t, "en", "profile.done_password.prompt", nil))
	})
	if ids := []int{currentID, newID, repeatID}; currentID == newID || newID == repeatID || currentID == repeatID {
		t.Errorf("password message ids %v are not three messages", ids)
	}
	for _, id := range []int{currentID, newID, repeatID} {
		if slices.ContainsFunc(w.srv.Messages(chat), func(m telegramtest.Message) bool { return m.ID == id }) {
			t.Errorf("password message #%d still in the chat", id)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	pc := portal.NewClient(w.portalURL)
	if _, err := pc.Login(ctx, danaEmail, newPassword); err != nil {
		t.Errorf("portal login with the new password: %v", err)
	}
	if _, err := pc.Login(ctx, danaEmail, danaPassword); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("portal login with the old password = %v, want %v", err, portal.ErrUnauthorized)
	}

	c.noneHolds(danaPassword, newPassword)
	c.finish(danaPassword)
}

// TestTelegramAccountEmail: Noa, in Hebrew, who has no additional emails,
// adds one from /emails: the address typed with capitals, two
// notifications switched on in place (editMessageText on the toggles
// message, no new message), Continue, Confirm. The portal then lists the
// address, in lower case, with exactly those notifications.
func TestTelegramAccountEmail(t *testing.T) {
	const chat = 6203
	w := openPlanWorld(t)
	if got := w.extraEmails(noaEmail, noaPassword); len(got) != 0 {
		t.Fatalf("Noa has additional emails before the test: %+v", got)
	}
	c := w.customer(chat, "Noa", "he")

	c.say("/emails")
	askEmail := c.await(0, "the email prompt", containing(msg(t, "he", "login.ask_email.prompt", nil)))
	none := c.logIn(askEmail, noaEmail, noaPassword, "no additional emails", hasButton("emails.none|e:add"))

	c.press(none, "emails.none|e:add")
	ask := c.await(none.ID, "the address prompt", containing(msg(t, "he", "emails.ask_email.prompt", nil)))

	c.say("Noa.Work@Example.com")
	const (
		orders   = "emails.add_notify|t:orders"
		shipping = "emails.add_notify|t:shipping"
		billing  = "emails.add_notify|t:billing"
		support  = "emails.add_notify|t:support"
		done     = "emails.add_notify|k:"
	)
	toggles := c.await(ask.ID, "the notification toggles", hasButton(orders))
	if !strings.Contains(toggles.Text, "noa.work@example.com") {
		t.Errorf("toggles text %q lacks the address in lower case", toggles.Text)
	}
	if diff := cmp.Diff([]string{"⬜", "⬜", "⬜", "⬜"}, marks(toggles, orders, shipping, billing, support)); diff != "" {
		t.Errorf("toggles at first (orders, shipping, billing, support) (-want +got):\n%s", diff)
	}

	c.press(toggles, shipping)
	toggles = c.awaitEdit(toggles.ID, "shipping switched on", func(m telegramtest.Message) bool { return marks(m, shipping)[0] == "✅" })
	if got := w.awaitEdits(chat, toggles.ID, 1); len(got) != 1 {
		t.Errorf("after the first toggle: %d editMessageText calls on #%d, want 1: %+v", len(got), toggles.ID, got)
	}
	c.press(toggles, support)
	toggles = c.awaitEdit(toggles.ID, "support switched on", func(m telegramtest.Message) bool { return marks(m, support)[0] == "✅" })
	if diff := cmp.Diff([]string{"⬜", "✅", "⬜", "✅"}, marks(toggles, orders, shipping, billing, support)); diff != "" {
		t.Errorf("toggles after the presses (orders, shipping, billing, support) (-want +got):\n%s", diff)
	}

	c.press(toggles, done)
	confirm := c.await(toggles.ID, "the confirm screen", hasButton("emails.confirm_add|k:"))
	if got := w.edits(chat, toggles.ID); len(got) != 2 {
		t.Errorf("%d editMessageText calls on the toggles message #%d, want 2 (one per toggle): %+v", len(got), toggles.ID, got)
	}
	if got := w.botMessagesBetween(chat, toggles.ID, confirm.ID); len(got) != 0 {
		t.Errorf("new messages between the toggles and the confirm screen:\n%s", dump(got))
	}
	if got := w.extraEmails(noaEmail, noaPassword); len(got) != 0 {
		t.Errorf("additional emails saved before Confirm: %+v", got)
	}

	c.press(confirm, "emails.confirm_add|k:")
	c.await(confirm.ID, "the saved notice and the menu", func(m telegramtest.Message) bool {
		return buttonID(m, "menu|track") && strings.Contains(m.Text, "noa.work@example.com")
	})

	got := w.extraEmails(noaEmail, noaPassword)
	want := []portal.ExtraEmail{{Email: "noa.work@example.com", Notify: portal.Notify{Shipping: true, Support: true}}}
	if len(got) == 1 {
		want[0].ID = got[0].ID
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Noa's additional emails in the portal (-want +got):\n%s", diff)
	}
	allHebrew(w)
	c.finish(noaPassword)
}

// TestTelegramAccountAddress: Noa adds an address from /addresses: name,
// street, Skip for the apartment, city, Israel, postal code, Skip for the
// phone, default for shipping switched on in place, Continue. On the
// review she changes the city, then Save and Confirm. The portal then has
// the address with the changed city and shipping (only) as its default.
func TestTelegramAccountAddress(t *testing.T) {
	const chat = 6204
	w := openPlanWorld(t)
	if got := w.addressBook(noaEmail, noaPassword); len(got) != 0 {
		t.Fatalf("Noa has addresses before the test: %+v", got)
	}
	c := w.customer(chat, "Noa", "en")
	card := func(city string) string {
		none := msg(t, "en", "addresses.none", nil)
		return msg(t, "en", "addresses.card", map[string]any{"Name": "Noa Peretz", "Street": "Sderot HaNassi 45",
			"Apartment": none, "City": city, "Country": msg(t, "en", "addresses.country.il", nil), "Postal": "6423906",
			"Phone": none, "Defaults": msg(t, "en", "addresses.defaults.shipping", nil)})
	}

	c.say("/addresses")
	askEmail := c.await(0, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	empty := c.logIn(askEmail, noaEmail, noaPassword, "the empty address book", hasButton("addresses.empty|e:add"))

	c.press(empty, "addresses.empty|e:add")
	ask := c.await(empty.ID, "the name prompt", containing(msg(t, "en", "addresses.ask_name.prompt", nil)))
	c.say("Noa Peretz")
	ask = c.await(ask.ID, "the street prompt", containing(msg(t, "en", "addresses.ask_line1.prompt", nil)))
	c.say("Sderot HaNassi 45")
	ask = c.await(ask.ID, "the apartment prompt", hasButton("addresses.ask_line2|s:"))
	c.press(ask, "addresses.ask_line2|s:")
	ask = c.await(ask.ID, "the city prompt", containing(msg(t, "en", "addresses.ask_city.prompt", nil)))
	c.say("Haifa")
	ask = c.await(ask.ID, "the country choice", hasButton("addresses.ask_country|v:IL"))
	c.press(ask, "addresses.ask_country|v:IL")
	ask = c.await(ask.ID, "the postal code prompt", containing(msg(t, "en", "addresses.ask_postal.prompt",
		map[string]any{"Format": msg(t, "en", "addresses.postal.format_il", nil)})))
	c.say("6423906")
	ask = c.await(ask.ID, "the phone prompt", hasButton("addresses.ask_phone|s:"))
	c.press(ask, "addresses.ask_phone|s:")

	const (
		billing  = "addresses.ask_defaults|t:billing"
		shipping = "addresses.ask_defaults|t:shipping"
	)
	defaults := c.await(ask.ID, "the defaults toggles", hasButton(shipping))
	if diff := cmp.Diff([]string{"⬜", "⬜"}, marks(defaults, billing, shipping)); diff != "" {
		t.Errorf("defaults at first (billing, shipping) (-want +got):\n%s", diff)
	}
	c.press(defaults, shipping)
	defaults = c.awaitEdit(defaults.ID, "shipping switched on", func(m telegramtest.Message) bool { return marks(m, shipping)[0] == "✅" })
	if diff := cmp.Diff([]string{"⬜", "✅"}, marks(defaults, billing, shipping)); diff != "" {
		t.Errorf("defaults after the press (billing, shipping) (-want +got):\n%s", diff)
	}

	c.press(defaults, "addresses.ask_defaults|k:")
	review := c.await(defaults.ID, "the review", hasButton("addresses.review|f:fix_city"))
	if got := w.edits(chat, defaults.ID); len(got) != 1 {
		t.Errorf("%d editMessageText calls on the defaults message #%d, want 1: %+v", len(got), defaults.ID, got)
	}
	if want := msg(t, "en", "addresses.review.prompt", map[string]any{"Card": card("Haifa")}); review.Text != want {
		t.Errorf("review text = %q, want %q", review.Text, want)
	}

	c.press(review, "addresses.review|f:fix_city")
	fix := c.await(review.ID, "the city fix prompt", containing(msg(t, "en", "addresses.fix_city.prompt", map[string]any{"Current": "Haifa"})))
	c.say("Tel Aviv-Yafo")
	review = c.await(fix.ID, "the review with the new city", hasButton("addresses.review|k:"))
	if want := msg(t, "en", "addresses.review.prompt", map[string]any{"Card": card("Tel Aviv-Yafo")}); review.Text != want {
		t.Errorf("review text after the fix = %q, want %q", review.Text, want)
	}

	c.press(review, "addresses.review|k:")
	confirm := c.await(review.ID, "the confirm screen", hasButton("addresses.confirm_add|k:"))
	if want := msg(t, "en", "addresses.confirm_add.prompt", map[string]any{"Card": card("Tel Aviv-Yafo")}); confirm.Text != want {
		t.Errorf("confirm text = %q, want %q", confirm.Text, want)
	}
	if got := w.addressBook(noaEmail, noaPassword); len(got) != 0 {
		t.Errorf("address saved before Confirm: %+v", got)
	}

	c.press(confirm, "addresses.confirm_add|k:")
	c.await(confirm.ID, "the saved notice and the menu", func(m telegramtest.Message) bool {
		return buttonID(m, "menu|track") && strings.Contains(m.Text, msg(t, "en", "addresses.done_add.prompt", map[string]any{"Card": card("Tel Aviv-Yafo")}))
	})

	got := w.addressBook(noaEmail, noaPassword)
	want := []portal.Address{{Name: "Noa Peretz", Line1: "Sderot HaNassi 45", City: "Tel Aviv-Yafo", PostalCode: "6423906",
		Country: "IL", DefaultShipping: true}}
	if len(got) == 1 {
		want[0].ID = got[0].ID
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Noa's address book in the portal (-want +got):\n%s", diff)
	}
	c.finish(noaPassword)
}

// linkURL finds the URL in a bot message.
var linkURL = regexp.MustCompile(`https?://[^\s\x{2066}-\x{2069}]+`)

// TestTelegramAccountCard: Sarah asks /card for a secure link. A card
// number she pastes on the way is deleted, by its id, and answered with a
// warning that points to /card, and the plan choice is shown again; Get a
// secure link then answers with a one-time https link, for the plan that
// is not expired.
func TestTelegramAccountCard(t *testing.T) {
	const (
		chat       = 6205
		cardNumber = "4111 1111 1111 1111"
	)
	w := openPlanWorld(t)
	c := w.customer(chat, "Sarah", "en")
	const (
		usa  = "card.choose|t:P-2005"
		il   = "card.choose|t:P-2006"
		link = "card.choose|k:"
	)

	c.say("/card")
	askEmail := c.await(0, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	choose := c.logIn(askEmail, sarahEmail, sarahPassword, "the plan choice", hasButton(link))
	// The active plan is chosen to begin with; the expired one is not
	// (whether it is offered, switched off, or left out).
	if got := marks(choose, usa, il); got[0] != "✅" || got[1] == "✅" {
		t.Errorf("plans at first (P-2005 active, P-2006 expired) = %q, want P-2005 on and P-2006 not:\n%s", got, dump([]telegramtest.Message{choose}))
	}

	warn := msg(t, "en", "common.card_warning", nil)
	// One message: the warning on top of the plan choice again.
	warning, _ := c.sayDeleted(choose.ID, cardNumber, "the card warning and the plan choice again", func(m telegramtest.Message) bool {
		return containing(warn)(m) && hasButton(link)(m)
	})
	if !strings.Contains(warning.Text, "/card") {
		t.Errorf("card warning %q does not mention /card", warning.Text)
	}
	choose = warning

	c.press(choose, link)
	done := c.await(choose.ID, "the secure link", func(m telegramtest.Message) bool { return linkURL.MatchString(m.Text) })
	raw := linkURL.FindString(done.Text)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Path == "" {
		t.Errorf("link %q in %q is not an https URL (%v)", raw, done.Text, err)
	}
	// The clock starts at 10:00 UTC, 12:00 in Israel; a link lasts 30 minutes.
	if want := msg(t, "en", "card.done.prompt", map[string]any{"url": raw, "until": "20 Nov 2026, 12:30"}); done.Text != want {
		t.Errorf("link text = %q, want %q", done.Text, want)
	}
	if !buttonID(done, "menu|track") {
		t.Errorf("no main menu under the link:\n%s", dump([]telegramtest.Message{done}))
	}

	c.noneHolds(cardNumber, strings.ReplaceAll(cardNumber, " ", ""))
	c.finish(sarahPassword)
}
