package telegram_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot"
)

const updatesDir = "testdata/updates" // copied from shared/testdata; see testdata/SOURCES.md

// TestTranslateRealUpdates feeds every update in shared/testdata through
// the fake Bot API and checks what reaches the engine: an Inbound for
// private text, commands, callbacks, edits and unsupported content (with
// a photo's caption); nothing for everything else — and that each is
// confirmed and each callback answered.
func TestTranslateRealUpdates(t *testing.T) {
	type want struct {
		in *bot.Inbound // nil: ignored
		// query is the callback query id that must be answered.
		query string
	}
	unsupported := func(chat string, update int64, msg int, lang, name string) want {
		return want{in: &bot.Inbound{Key: "telegram:" + chat, UpdateID: update, MessageID: msg, LangHint: lang, Name: name, Unsupported: true}}
	}
	captioned := func(chat string, update int64, msg int, lang, name, caption string) want {
		w := unsupported(chat, update, msg, lang, name)
		w.in.Caption = caption
		return w
	}
	edited := func(chat string, update int64, msg int, lang, name, text string) want {
		return want{in: &bot.Inbound{Key: "telegram:" + chat, UpdateID: update, MessageID: msg, LangHint: lang, Name: name, Text: text, Edited: true}}
	}
	text := func(chat string, update int64, msg int, lang, name, text string) want {
		return want{in: &bot.Inbound{Key: "telegram:" + chat, UpdateID: update, MessageID: msg, LangHint: lang, Name: name, Text: text}}
	}
	ignored := want{}
	tests := map[string]want{
		"01-private-text-message.json":             text("218485655", 892252934, 6557, "en", "Waffle", "hello there"),
		"02-docs-start-without-entities.json":      text("1111111", 10000, 1365, "", "Test Firstname", "/start"),
		"03-start-command-entity.json":             text("12345678", 259894298, 101, "", "FistName", "/start"),
		"04-start-deep-link-payload-composed.json": text("111111111", 900000004, 41, "en", "Dana", "/start c3VwcG9ydC10aWNrZXQtNDI"),
		"05-command-with-bot-username.json":        text("10081232", 144064961, 428640, "it", "Luca", "/test"),
		"06-callback-query-with-message.json": {
			in:    &bot.Inbound{Key: "telegram:222222222", UpdateID: 2, Data: "thedata", MessageID: 69587, LangHint: "it", Name: "Mario"},
			query: "666728699048485871",
		},
		"07-callback-query-inaccessible-message.json": {
			in:    &bot.Inbound{Key: "telegram:222222222", UpdateID: 2, Data: "thedata", MessageID: 69587, LangHint: "it", Name: "Mario"},
			query: "666728699048485871",
		},
		"08-docs-callback-query-inline-message.json": {query: "4382bfdwdsb323b2d9"},
		"09-edited-message-private-with-reply.json":  edited("999999999", 62257549, 23762, "it", "Mario", "Editing this message"),
		"10-edited-message-supergroup-text.json":     ignored,
		"11-edited-message-live-location.json":       ignored,
		"12-photo-with-caption.json":                 captioned("11111111", 144011148, 456901, "it", "Mario", "asdasdasdasdasdasd"),
		"13-photo-caption-entities-url.json":         captioned("27433968", 900000013, 3460, "en", "Crax | rats addict", "www.example.com"),
		"14-sticker-animated-supergroup.json":        ignored,
		"16-voice.json":                              unsupported("12345678", 259894301, 104, "en", "FistName"),
		"17-video-note.json":                         unsupported("12345", 123456789, 123456, "it", "Mario"),
		"18-document.json":                           unsupported("12345678", 259894303, 106, "en", "FirstName"),
		"19-contact-with-vcard.json":                 unsupported("12345", 123456789, 123456, "it", "Mario"),
		"20-location.json":                           ignored,
		"21-venue.json":                              unsupported("12345", 123456789, 123456, "it", "Mario"),
		"22-poll-message-quiz.json":                  ignored,
		"23-poll-update.json":                        ignored,
		"24-dice.json":                               ignored,
		"25-forward-origin-user.json":                text("456", 1, 123, "en", "Mario", "Ciao"),
		"26-forward-origin-hidden-user-nulls.json":   text("1234567", 900000026, 1234, "", "Telegram_Bots", "test"),
		"29-reply-supergroup.json":                   ignored,
		"30-hebrew-rtl-entities-composed.json": text("222222222", 900000030, 812, "he", "נועה",
			"שלום! 👋 ההזמנה #4512 עדיין לא הגיעה. דחוף — אפשר לבדוק? פרטים: https://example.com/orders/4512 או כאן 🙏 טלפון: +972-3-555-0100"),
		"31-emoji-entities-utf16.json":                text("321654", 123456, 123, "en", "John", "test bold underline 😆👍 look here"),
		"32-emoji-heavy-zwj-composed.json":            text("222222223", 900000032, 813, "en", "Sam", fileText(t, "32-emoji-heavy-zwj-composed.json")),
		"35-very-long-text-4096-composed.json":        text("222222224", 900000035, 814, "en", "Alex", fileText(t, "35-very-long-text-4096-composed.json")),
		"36-group-message-reply.json":                 ignored,
		"37-group-new-chat-members-bot-added.json":    ignored,
		"38-group-left-chat-member.json":              ignored,
		"39-group-migrate-to-chat-id.json":            ignored,
		"40-supergroup-migrate-from-chat-id.json":     ignored,
		"41-supergroup-message.json":                  ignored,
		"42-supergroup-command-reply-to-story.json":   ignored,
		"43-supergroup-forum-topic-message.json":      ignored,
		"44-supergroup-anonymous-admin-forward.json":  ignored,
		"45-channel-post.json":                        ignored,
		"46-my-chat-member-blocked-kicked.json":       ignored,
		"48-chat-member-left-to-kicked-nulls.json":    ignored,
		"49-inline-query.json":                        ignored,
		"50-docs-inline-query-numeric-id.json":        ignored, // the SDK cannot decode it
		"51-chosen-inline-result.json":                ignored,
		"52-pre-checkout-query.json":                  ignored,
		"53-shipping-query.json":                      ignored,
		"54-successful-payment.json":                  ignored, // a service message
		"55-message-reaction-user.json":               ignored,
		"56-message-reaction-actor-chat-removed.json": ignored,
		"57-business-message.json":                    ignored,
		"58-web-app-data.json":                        unsupported("12345", 123456789, 123456, "it", "Mario"),
		"59-minimal-update.json":                      text("42", 42, 42, "", "Test", "test"),
		"60-unknown-update-kind.json":                 ignored,
	}
	files, err := filepath.Glob(filepath.Join(updatesDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no updates in %s: %v", updatesDir, err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		w, ok := tests[name]
		if !ok {
			t.Errorf("%s: no expectation; add one", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, nil)
			id, err := h.srv.PushRaw(raw)
			if err != nil {
				t.Fatal(err)
			}
			h.start()
			if !h.srv.WaitConfirmed(id, wait) {
				t.Fatalf("update %d not confirmed", id)
			}
			if w.query != "" && !h.srv.WaitFor(wait, func() bool { return h.srv.Answered(w.query) }) {
				t.Errorf("callback query %s not answered", w.query)
			}
			got, _, _ := h.eng.snapshot()
			var want []bot.Inbound
			if w.in != nil {
				want = []bot.Inbound{*w.in}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("inbounds (-want +got):\n%s", diff)
			}
			if w.in != nil && !w.in.Unsupported && w.in.Data == "" {
				// The echo reply arrives, as plain text.
				calls := h.waitCalls("sendMessage", 1)
				if calls[0].ParseMode != "" {
					t.Errorf("parse_mode = %q, want none", calls[0].ParseMode)
				}
			}
		})
	}
}

// fileText returns message.text of an update file.
func fileText(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(updatesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var u struct {
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		t.Fatal(err)
	}
	return u.Message.Text
}
