package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
)

// openLoggingApp is openAppAt with the logger Main builds itself from cfg
// (level, format, the repeat filter) writing to the app's log buffer, as a
// real run's logs go to stderr.
func openLoggingApp(t *testing.T, srv *telegramtest.Server, cfg Config, now func() time.Time) *app {
	t.Helper()
	a := &app{t: t, srv: srv, logs: newLogBuffer()}
	m := NewMain()
	m.Config = cfg
	m.Now = now
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), io.Discard, a.logs
	m.TelegramOptions = fastOptions
	a.m = m
	a.stop = runMain(t, m)
	return a
}

// relayWebhook plays Telegram in webhook mode: it takes the updates queued
// on srv and posts each to hook with secret, again until it is answered
// 200, until the test ends.
func relayWebhook(t *testing.T, srv *telegramtest.Server, hook, secret string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	call := func(url, secret string, body []byte) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		return http.DefaultClient.Do(req)
	}
	go func() {
		defer close(done)
		var offset int64
		for ctx.Err() == nil {
			body, _ := json.Marshal(map[string]any{"offset": offset, "timeout": 1})
			resp, err := call(srv.URL+"/bot"+telegramtest.Token+"/getUpdates", "", body)
			if err != nil {
				continue
			}
			var r struct {
				Result []json.RawMessage `json:"result"`
			}
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if err != nil {
				continue
			}
			for _, raw := range r.Result {
				var head struct {
					ID int64 `json:"update_id"`
				}
				json.Unmarshal(raw, &head)
				for ctx.Err() == nil {
					resp, err := call(hook, secret, raw)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							break
						}
					}
					time.Sleep(10 * time.Millisecond)
				}
				offset = head.ID + 1
			}
		}
	}()
}

// TestLogsHoldNoSecrets runs whole journeys through Main in webhook mode,
// logging at debug level with the logger Main builds, and then searches
// every log line for what must never be logged: the passwords typed to log
// in and to change one, the card number pasted (with and without its
// spaces), the emails given, the bot token, the webhook secret (and a wrong
// one), and the portal tokens of the customers who logged in. It also
// checks that the lines of an update's handling carry its update id, and
// that a flood of requests with a wrong secret is logged once, with a count.
func TestLogsHoldNoSecrets(t *testing.T) {
	const (
		secret      = "hook-s3cret_for-logs"
		wrongSecret = "not-the-secret_x9"
		newPassword = "brand-new-secret-7"
		cardNumber  = "4111 1111 1111 1111"
		guestEmail  = "nobody.here@example.org"
	)
	base := time.Now()
	clock := func() time.Time { return planEpoch.Add(time.Since(base)) }
	srv := telegramtest.NewServer(t)
	cfg := config(srv, t.TempDir()) // at debug level
	cfg.LogFormat = "json"
	cfg.TelegramWebhookListen = "127.0.0.1:0"
	cfg.TelegramWebhookSecret = secret
	a := openLoggingApp(t, srv, cfg, clock)
	w := &planWorld{app: a, portalURL: a.m.PortalURL}
	addr, _ := a.logs.waitFor(t, "webhook listening")["addr"].(string)
	if addr == "" {
		t.Fatal("webhook address not logged")
	}
	hook := "http://" + addr + "/"

	// A flood of requests with a wrong secret.
	const flood = 25
	for i := range flood {
		if got := post(t, hook, wrongSecret, textUpdate(int64(900+i), telegramtest.User{ID: 1, FirstName: "Eve"}, i+1, "/start")); got != http.StatusUnauthorized {
			t.Fatalf("wrong secret: status %d, want 401", got)
		}
	}
	relayWebhook(t, srv, hook, secret)

	// Dana logs in from /profile and changes her password: three more
	// passwords, each deleted.
	dana := w.customer(7301, "Dana", "en")
	dana.say("/profile")
	askEmail := dana.await(0, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	show := dana.logIn(askEmail, danaEmail, danaPassword, "the profile", hasButton("profile.show|e:password"))
	danaToken := w.portalToken(dana)
	dana.press(show, "profile.show|e:password")
	askCurrent := dana.await(show.ID, "the current password prompt", containing(msg(t, "en", "profile.ask_current.prompt", nil)))
	askNew, _ := dana.sayDeleted(askCurrent.ID, danaPassword, "the new password prompt", containing(msg(t, "en", "profile.ask_new.prompt", nil)))
	askRepeat, _ := dana.sayDeleted(askNew.ID, newPassword, "the repeat prompt", containing(msg(t, "en", "profile.ask_repeat.prompt", nil)))
	dana.sayDeleted(askRepeat.ID, newPassword, "the changed notice", containing(msg(t, "en", "profile.done_password.prompt", nil)))

	// A guest looks an order up with a wrong email, and another with the
	// right one, then pastes a card number without spaces.
	guest := w.customer(7302, "Guest", "en")
	guest.say("/start track_SB-104251")
	ask := guest.await(0, "the email prompt", containing("SB-104251"))
	guest.say(guestEmail)
	miss := guest.await(ask.ID, "the order not found", hasButton("track.fix_lookup|k:"))
	guest.say("/start track_SB-104233")
	ask = guest.await(miss.ID, "the email prompt", func(m telegramtest.Message) bool {
		return strings.Contains(m.Text, "SB-104233") && !strings.Contains(m.Text, "Israel Post")
	})
	guest.say(danaEmail)
	found := guest.await(ask.ID, "the order", containing("RR314434889IL"))
	guest.sayDeleted(found.ID, strings.ReplaceAll(cardNumber, " ", ""), "the card warning", containing(msg(t, "en", "common.card_warning", nil)))

	// Sarah logs in from /card and pastes her card number.
	sarah := w.customer(7303, "Sarah", "en")
	sarah.say("/card")
	askEmail = sarah.await(0, "the email prompt", containing(msg(t, "en", "login.ask_email.prompt", nil)))
	choose := sarah.logIn(askEmail, sarahEmail, sarahPassword, "the plan choice", hasButton("card.choose|k:"))
	sarahToken := w.portalToken(sarah)
	sarah.sayDeleted(choose.ID, cardNumber, "the card warning", containing(msg(t, "en", "common.card_warning", nil)))

	// The backend goes down: Sarah asks for her plans, twice, and another
	// guest looks an order up; each is told, and it is logged as a
	// warning once, with a count.
	stopCtx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := a.m.stopPortal(stopCtx); err != nil {
		t.Fatalf("stop the demo portal: %v", err)
	}
	a.m.stopPortal = nil
	down := containing(msg(t, "en", "error.unavailable", nil))
	last := a.lastID(sarah.u.ID)
	sarah.say("/plans")
	last = sarah.await(last, "the portal unavailable note", down).ID
	sarah.say("/plans")
	sarah.await(last, "the portal unavailable note again", down)
	late := w.customer(7304, "Late", "en")
	late.say("/start track_SB-104251")
	ask = late.await(0, "the email prompt", containing("SB-104251"))
	late.say(michaelEmail)
	late.await(ask.ID, "the portal unavailable note", down)

	if err := a.stop(); err != nil { // flushes the logs held back
		t.Fatalf("Run: %v", err)
	}
	logs := a.logs.String()
	secrets := map[string]string{
		"Dana's password":          danaPassword,
		"Dana's new password":      newPassword,
		"Sarah's password":         sarahPassword,
		"the card number":          cardNumber,
		"the card number, spaced":  strings.ReplaceAll(cardNumber, " ", ""),
		"Dana's email":             danaEmail,
		"Sarah's email":            sarahEmail,
		"the guest's wrong email":  guestEmail,
		"Michael's email":          michaelEmail,
		"the bot token":            telegramtest.Token,
		"the bot token's secret":   telegramtest.Token[strings.IndexByte(telegramtest.Token, ':')+1:],
		"the webhook secret":       secret,
		"a wrong webhook secret":   wrongSecret,
		"Dana's portal token":      danaToken,
		"Sarah's portal token":     sarahToken,
		"the email's local part":   "dana.levi",
		"Sarah's portal token end": sarahToken[len(sarahToken)-12:],
	}
	for what, s := range secrets {
		if s == "" {
			t.Errorf("%s: empty", what)
			continue
		}
		if strings.Contains(logs, s) {
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, s) {
					t.Errorf("%s (%q) logged: %s", what, s, line)
				}
			}
		}
	}

	// The lines of an update's handling and of its replies' sending carry
	// the update's id and chat.
	var handled, sent, wrong, repeated, failed, failedRepeated int
	for _, rec := range a.logs.records(t) {
		switch rec["msg"] {
		case "step failed":
			failed++
			for _, k := range []string{"chat", "update", "flow", "state", "err"} {
				if rec[k] == nil {
					t.Errorf("step failed logged without %s: %v", k, rec)
				}
			}
		case "step failed (repeated 2 times)":
			failedRepeated++
		case "update handled", "sent":
			if rec["msg"] == "sent" {
				sent++
			} else {
				handled++
			}
			if rec["update"] == nil || rec["chat"] == nil {
				t.Errorf("record without update id or chat: %v", rec)
			}
		case "webhook request with a wrong secret":
			wrong++
		case fmt.Sprintf("webhook request with a wrong secret (repeated %d times)", flood-1):
			repeated++
			if rec["repeated"] != float64(flood-1) {
				t.Errorf("summary repeated=%v, want %d", rec["repeated"], flood-1)
			}
		}
	}
	if handled == 0 || sent == 0 {
		t.Errorf("%d updates handled and %d messages sent logged at debug level; logs:\n%s", handled, sent, logs)
	}
	if wrong != 1 || repeated != 1 {
		t.Errorf("%d wrong secrets requests: logged %d times and summed up %d times, want once each", flood, wrong, repeated)
	}
	if failed != 1 || failedRepeated != 1 {
		t.Errorf("3 steps failed with the portal down: logged %d times and summed up %d times as repeated twice, want once each", failed, failedRepeated)
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs)
	}
}

// portalToken returns the portal token of c's session, as the bot holds it
// (decrypted).
func (w *planWorld) portalToken(c *customer) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	s, ok, err := w.m.DB.Load(ctx, telegram.Key(c.u.ID))
	if err != nil || !ok || s.Token == "" {
		w.t.Fatalf("session of chat %d: token %q, found %t, err %v", c.u.ID, s.Token, ok, err)
	}
	return s.Token
}
