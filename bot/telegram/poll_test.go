package telegram_test

import (
	"net/http"
	"testing"

	"supportbot/bot/telegram/telegramtest"
)

// TestPollConflictDeletesWebhookOnce: polling deletes a webhook once, at
// start, and says so; a 409 from getUpdates later (another instance
// polling) is waited out, not answered by deleting a webhook again.
func TestPollConflictDeletesWebhookOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.srv.Inject(telegramtest.Fault{Method: "getUpdates", Times: 3, Code: http.StatusConflict})
	id := h.srv.PushText(user(1), "hi")
	h.start()
	h.waitSent(1, 1)
	if !h.srv.WaitConfirmed(id, wait) {
		t.Fatal("update not confirmed")
	}
	if n := len(h.srv.Calls("getUpdates")); n < 4 {
		t.Errorf("%d getUpdates calls, want ≥ 4 (3 conflicts, then the update)", n)
	}
	if n := len(h.srv.Calls("deleteWebhook")); n != 1 {
		t.Errorf("%d deleteWebhook calls, want 1 (at start only)", n)
	}
	h.logs.waitFor(t, "long polling: webhook deleted, once at start")
}
