package telegram_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot"
	"supportbot/bot/telegram"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// postUpdate posts a text update to the webhook at url, as Telegram does,
// and returns the status (0 and the error if there was no answer).
func postUpdate(url, secret string, id int, chat int64, text string) (int, error) {
	body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1700000000,"chat":{"id":%d,"type":"private","first_name":"Dana"},"from":{"id":%d,"is_bot":false,"first_name":"Dana","language_code":"en"},"text":%q}}`,
		id, id, chat, chat, text)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// await waits for ch to be closed, or fails the test.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestWebhookDrain shuts the channel down while a webhook update is in
// Handle: from then on new updates are answered 503 and not handled, so
// Telegram redelivers them after the restart; the update in flight gets
// its 200 and its reply is sent before Run returns.
func TestWebhookDrain(t *testing.T) {
	const secret = "drain-s3cret"
	addr := freeAddr(t)
	h := newHarness(t, func(o *telegram.Options) {
		o.Webhook = telegram.Webhook{Listen: addr, Secret: secret, Path: "/telegram"}
	})
	entered, release := make(chan struct{}), make(chan struct{})
	h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
		if in.Text == "in flight" {
			close(entered)
			<-release
		}
		return echo(in)
	}
	h.start()
	h.logs.waitFor(t, "webhook listening")
	url := "http://" + addr + "/telegram"

	type answer struct {
		code int
		err  error
	}
	inFlight := make(chan answer, 1)
	go func() {
		code, err := postUpdate(url, secret, 1, 5, "in flight")
		inFlight <- answer{code, err}
	}()
	await(t, entered, "the update to reach Handle")
	h.cancel()
	h.logs.waitFor(t, "webhook draining: new updates answered 503")

	if code, err := postUpdate(url, secret, 2, 6, "too late"); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("update during the drain: status %d (%v), want 503", code, err)
	}
	select {
	case err := <-h.done:
		t.Fatalf("Run returned (%v) with an update in flight", err)
	default:
	}
	close(release)
	if a := <-inFlight; a.err != nil || a.code != http.StatusOK {
		t.Errorf("update in flight: status %d (%v), want 200", a.code, a.err)
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff([]string{"re: in flight"}, h.sent(5)); diff != "" {
		t.Errorf("reply of the update in flight, at Run's return (-want +got):\n%s", diff)
	}
	if got := h.eng.inboundsFor(telegram.Key(6)); len(got) != 0 {
		t.Errorf("the update answered 503 was handled: %+v", got)
	}
	if _, _, undelivered := h.eng.snapshot(); undelivered != 0 {
		t.Errorf("%d replies left undelivered", undelivered)
	}
	if _, err := postUpdate(url, secret, 3, 7, "after"); err == nil {
		t.Error("the webhook still listens after Run returned")
	}
}

// TestPollingDrain shuts the channel down while an update of a getUpdates
// batch is in Handle: no getUpdates call asks for more updates, the one
// call left confirms exactly the updates handled and committed (an update
// whose Handle failed stays unconfirmed, with those after it), and an
// update that arrives meanwhile is left for the next start.
func TestPollingDrain(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail bool // the update in flight fails to commit
	}{
		{"in flight commits", false},
		{"in flight fails", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			entered, release := make(chan struct{}), make(chan struct{})
			h.eng.reply = func(in bot.Inbound) ([]bot.Reply, error) {
				if in.Text == "in flight" {
					close(entered)
					<-release
					if tc.fail {
						return nil, errors.New("store down")
					}
				}
				return echo(in)
			}
			slow := h.srv.PushText(user(1), "in flight")
			quick := h.srv.PushText(user(2), "quick")
			h.start()
			await(t, entered, "the update to reach Handle")
			h.eng.waitFor(t, "the quick update to commit", func() bool {
				h.eng.mu.Lock()
				defer h.eng.mu.Unlock()
				return h.eng.seen[quick]
			})
			polls := len(h.srv.Calls("getUpdates"))
			h.cancel()
			late := h.srv.PushText(user(3), "late")
			close(release)
			if err := h.stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}

			wantOffset := quick + 1
			if tc.fail {
				wantOffset = slow // refetched at the next start, and all after it
			}
			calls := h.srv.Calls("getUpdates")[polls:]
			if len(calls) != 1 {
				t.Fatalf("%d getUpdates calls after the shutdown began, want 1 (the confirmation): %+v", len(calls), calls)
			}
			if f := calls[0].Fields; f["timeout"] != "0" || f["offset"] != fmt.Sprint(wantOffset) {
				t.Errorf("last getUpdates: timeout %s, offset %s; want a confirmation (timeout 0) of offset %d", f["timeout"], f["offset"], wantOffset)
			}
			confirmed := h.srv.Confirmed()
			if confirmed != wantOffset {
				t.Errorf("confirmed offset %d, want %d", confirmed, wantOffset)
			}
			h.eng.mu.Lock()
			for _, id := range []int64{slow, quick, late} {
				if id < confirmed && !h.eng.seen[id] {
					t.Errorf("update %d confirmed but not committed", id)
				}
			}
			h.eng.mu.Unlock()
			if got := h.eng.inboundsFor(telegram.Key(3)); len(got) != 0 {
				t.Errorf("the update pushed after the shutdown began was handled: %+v", got)
			}
			if late < confirmed {
				t.Errorf("the late update %d was confirmed (offset %d)", late, confirmed)
			}
			if diff := cmp.Diff([]string{"re: quick"}, h.sent(2)); diff != "" {
				t.Errorf("chat 2 (-want +got):\n%s", diff)
			}
			want := []string{"re: in flight"}
			if tc.fail {
				want = nil
			}
			if diff := cmp.Diff(want, h.sent(1)); diff != "" {
				t.Errorf("chat 1 (-want +got):\n%s", diff)
			}
		})
	}
}
