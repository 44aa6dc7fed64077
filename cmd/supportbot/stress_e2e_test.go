package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"supportbot/bot/telegram/telegramtest"
)

// realUpdate returns the Telegram update of a file in the adapter's corpus
// of real updates (bot/telegram/testdata/updates), re-addressed to c: the
// update gets id, its message (or edited message) c's private chat and
// messageID, and edit changes what remains (the text, the caption).
func (c *customer) realUpdate(file string, id int64, messageID int, edit func(m map[string]any)) []byte {
	c.w.t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "bot", "telegram", "testdata", "updates", file))
	if err != nil {
		c.w.t.Fatal(err)
	}
	var u map[string]any
	if err := json.Unmarshal(raw, &u); err != nil {
		c.w.t.Fatalf("%s: %v", file, err)
	}
	m, _ := u["message"].(map[string]any)
	if m == nil {
		m, _ = u["edited_message"].(map[string]any)
	}
	if m == nil {
		c.w.t.Fatalf("%s holds no message", file)
	}
	u["update_id"] = id
	m["message_id"] = messageID
	m["chat"] = map[string]any{"id": c.u.ID, "first_name": c.u.FirstName, "type": "private"}
	m["from"] = map[string]any{"id": c.u.ID, "is_bot": false, "first_name": c.u.FirstName, "language_code": c.u.LanguageCode}
	edit(m)
	out, err := json.Marshal(u)
	if err != nil {
		c.w.t.Fatal(err)
	}
	return out
}

// pushRaw queues update on the fake Bot API.
func (c *customer) pushRaw(update []byte) {
	c.w.t.Helper()
	if _, err := c.w.srv.PushRaw(update); err != nil {
		c.w.t.Fatal(err)
	}
}

// TestTelegramSensitiveCaptionsAndEdits: real update shapes carrying what
// must not stay in the chat. A card number written with dots in a photo's
// caption, and one put into an earlier message by editing it, are deleted
// with the card warning; another edit gets a note and changes nothing; a
// password sent as a photo's caption at the password prompt is deleted
// and not taken as the password. Nothing of them reaches a Bot API call,
// a message left in the chat or the log.
func TestTelegramSensitiveCaptionsAndEdits(t *testing.T) {
	const (
		chat        = 6301
		dottedCard  = "4111.1111.1111.1111"
		spacedCard  = "5500 0000 0000 0004"
		captionPass = "demo-dana"
	)
	w := openPlanWorld(t)
	c := w.customer(chat, "Dana", "en")
	nextUpdate := int64(2_000_000_000)
	push := func(file string, messageID int, edit func(m map[string]any)) {
		t.Helper()
		nextUpdate += 1000 // above the ids PushText took since
		c.pushRaw(c.realUpdate(file, nextUpdate, messageID, edit))
	}
	warn := msg(t, "en", "common.card_warning", nil)

	c.say("/start")
	menu := c.await(0, "the main menu", hasButton("menu|track"))
	startID := menu.ID - 1 // the customer's /start

	photo := w.lastID(chat) + 1
	push("12-photo-with-caption.json", photo, func(m map[string]any) { m["caption"] = "my card " + dottedCard })
	got := c.await(menu.ID, "the card warning after the captioned photo", containing(warn))
	c.deleted(photo, "the photo with a card number in its caption")

	push("09-edited-message-private-with-reply.json", startID, func(m map[string]any) {
		m["text"] = "paid with " + spacedCard
		delete(m, "reply_to_message")
	})
	got = c.await(got.ID, "the card warning after the edit", containing(warn))
	c.deleted(startID, "the message edited to hold a card number")

	c.say("where is my order?")
	typed := w.lastID(chat)
	got = c.await(got.ID, "an answer to the typed question", func(telegramtest.Message) bool { return true })
	push("09-edited-message-private-with-reply.json", typed, func(m map[string]any) {
		m["text"] = "/cancel"
		delete(m, "reply_to_message")
	})
	got = c.await(got.ID, "the note on edits", containing(msg(t, "en", "common.edited", nil)))

	c.say("/login")
	askEmail := c.await(got.ID, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	c.say(danaEmail)
	askPassword := c.await(askEmail.ID, "the password prompt", containing(danaEmail))
	photo = w.lastID(chat) + 1
	push("13-photo-caption-entities-url.json", photo, func(m map[string]any) {
		m["caption"] = captionPass
		delete(m, "caption_entities")
	})
	got = c.await(askPassword.ID, "the note on the photo", containing(msg(t, "en", "common.unsupported", nil)))
	c.deleted(photo, "the photo with the password as its caption")
	for _, m := range w.botMessagesBetween(chat, askPassword.ID, got.ID+1) {
		if strings.Contains(m.Text, "logged in") {
			t.Errorf("the caption was taken as the password: %q", m.Text)
		}
	}

	c.noneHolds(dottedCard, "4111111111111111", spacedCard, captionPass)
	w.noWarnings()
}

// TestTelegramForgedPageButton: a list page button forged with a page no
// list reaches is answered as a stale button — the list again — not with
// an error the customer can only escape by /menu.
func TestTelegramForgedPageButton(t *testing.T) {
	const chat = 6302
	w := openPlanWorld(t)
	c := w.customer(chat, "Dana", "en")
	c.say("/login")
	askEmail := c.await(0, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	menu := c.logIn(askEmail, danaEmail, danaPassword, "the main menu", hasButton("menu|orders"))
	c.say("/orders")
	list := c.await(menu.ID, "the order list", hasButton("orders.list_orders|p:2"))
	c.queries = append(c.queries, w.srv.PushCallback(c.u, list.ID, "orders.list_orders|p:999999999999"))
	// One message: the stale-button note on top of the order list again.
	c.await(list.ID, "the stale-button note and the order list again", func(m telegramtest.Message) bool {
		return containing(msg(t, "en", "common.stale_step", nil))(m) && hasButton("orders.list_orders|p:2")(m)
	})
	c.finish(danaPassword)
}
