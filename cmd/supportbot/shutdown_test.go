package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
	"supportbot/portal/demo"
	"supportbot/store"
)

// gatedPortal is the demo portal over HTTP that, once armed, holds the
// first request it receives until released: an update whose portal call
// is slow.
type gatedPortal struct {
	URL      string
	entered  chan struct{} // closed when the held request arrives
	released chan struct{}

	mu    sync.Mutex
	armed bool
}

func newGatedPortal(t *testing.T) *gatedPortal {
	t.Helper()
	g := &gatedPortal{entered: make(chan struct{}), released: make(chan struct{})}
	h := demo.New(demo.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		hold := g.armed
		g.armed = false
		g.mu.Unlock()
		if hold {
			close(g.entered)
			<-g.released
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(g.release)
	g.URL = srv.URL
	return g
}

// arm makes the portal hold its next request.
func (g *gatedPortal) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed = true
}

// release lets the held request go on; it may be called more than once.
func (g *gatedPortal) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.released:
	default:
		close(g.released)
	}
}

// postStatus posts update to the webhook at url with secret and returns
// the status; unlike post it may run off the test's goroutine.
func postStatus(url, secret string, update []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(update))
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

// receive waits for a value from ch, or fails the test.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// pendingIn returns the replies left undelivered in the store of the data
// directory dir, while no Main has it open.
func pendingIn(t *testing.T, dir string) []string {
	t.Helper()
	key, err := store.LoadOrCreateKey(filepath.Join(dir, "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "supportbot.db"), store.Options{Key: key, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	envs, err := db.Pending(context.Background(), "telegram", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range envs {
		texts = append(texts, e.Reply.Text)
	}
	return texts
}

// TestShutdownWebhookDrain stops Main (as SIGTERM does) while a webhook
// update waits on a slow portal: new updates are answered 503 and not
// handled, so Telegram redelivers them after the restart; the update in
// flight completes, gets its 200, and its reply is sent before Main
// returns.
func TestShutdownWebhookDrain(t *testing.T) {
	const secret = "drain-s3cret_token"
	portal := newGatedPortal(t)
	srv := telegramtest.NewServer(t)
	cfg := config(srv, t.TempDir())
	cfg.PortalURL = portal.URL
	cfg.TelegramWebhookListen = "127.0.0.1:0"
	cfg.TelegramWebhookSecret = secret
	a := openApp(t, srv, cfg, nil)
	addr, _ := a.logs.waitFor(t, "webhook listening")["addr"].(string)
	url := "http://" + addr + "/"
	const chat = 91
	u := telegramtest.User{ID: chat, FirstName: "Michael", LanguageCode: "en"}

	if got := post(t, url, secret, textUpdate(701, u, 1, "/start track_SB-104251")); got != http.StatusOK {
		t.Fatalf("deep link: status %d, want 200", got)
	}
	portal.arm()
	inFlight := make(chan int, 1)
	go func() {
		code, err := postStatus(url, secret, textUpdate(702, u, 2, "michael.cohen@example.com"))
		if err != nil {
			code = 0
		}
		inFlight <- code
	}()
	receive(t, portal.entered, "the update's portal call")

	stopped := make(chan error, 1)
	go func() { stopped <- a.stop() }()
	a.logs.waitFor(t, "webhook draining: new updates answered 503")
	if got := post(t, url, secret, textUpdate(703, u, 3, "/help")); got != http.StatusServiceUnavailable {
		t.Errorf("update during the drain: status %d, want 503", got)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Main returned (%v) with an update in flight", err)
	default:
	}

	portal.release()
	if code := receive(t, inFlight, "the answer to the update in flight"); code != http.StatusOK {
		t.Errorf("update in flight: status %d, want 200", code)
	}
	if err := receive(t, stopped, "Main to return"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Main has returned: what was sent is all there will be.
	got := a.botMessages(chat)
	if !slices.ContainsFunc(got, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "9400111899220323123660") }) {
		t.Errorf("the tracking reply of the update in flight was not sent before Main returned:\n%s", dump(got))
	}
	help := msg(t, "en", "help.text", nil)
	if slices.ContainsFunc(got, func(m telegramtest.Message) bool { return strings.Contains(m.Text, help) }) {
		t.Errorf("the update answered 503 was handled:\n%s", dump(got))
	}
	if left := pendingIn(t, cfg.DataDir); len(left) != 0 {
		t.Errorf("replies left pending: %q", left)
	}
	a.logs.waitFor(t, "shutting down: finishing updates in flight, then sending pending replies")
}

// gatedTransport holds the first sendMessage call until released.
type gatedTransport struct {
	next     http.RoundTripper
	once     sync.Once
	entered  chan struct{}
	released chan struct{}
}

func (g *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/sendMessage") {
		held := false
		g.once.Do(func() { held = true })
		if held {
			close(g.entered)
			<-g.released
		}
	}
	return g.next.RoundTrip(r)
}

// TestShutdownDrainsOutbox stops Main while the replies of a committed
// update are still being sent: they are all delivered before Main returns,
// and nothing is left pending in the store.
func TestShutdownDrainsOutbox(t *testing.T) {
	srv := telegramtest.NewServer(t)
	gate := &gatedTransport{next: http.DefaultTransport, entered: make(chan struct{}), released: make(chan struct{})}
	dir := t.TempDir()
	a := openApp(t, srv, config(srv, dir), func(o *telegram.Options) {
		o.HTTPClient = &http.Client{Transport: gate}
	})
	const chat = 92
	id := srv.PushText(telegramtest.User{ID: chat, LanguageCode: "en"}, "/start")
	receive(t, gate.entered, "the first reply's send")
	if !srv.WaitConfirmed(id, wait) {
		t.Fatal("update not confirmed")
	}

	stopped := make(chan error, 1)
	go func() { stopped <- a.stop() }()
	a.logs.waitFor(t, "shutting down: finishing updates in flight, then sending pending replies")
	close(gate.released)
	if err := receive(t, stopped, "Main to return"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	var got []string
	for _, m := range a.botMessages(chat) {
		got = append(got, m.Text)
	}
	// One message: the welcome on top of the menu.
	want := []string{msg(t, "en", "common.welcome", nil) + "\n\n" + msg(t, "en", "menu.prompt", nil)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sent before Main returned (-want +got):\n%s", diff)
	}
	if left := pendingIn(t, dir); len(left) != 0 {
		t.Errorf("replies left pending: %q", left)
	}
}

// TestShutdownTimeoutLeavesPending stops Main while the Bot API fails every
// send and the next retry is a minute away: with a tiny --shutdown-timeout
// Main returns at once, the undelivered replies stay in the store, and the
// next start sends them, once.
func TestShutdownTimeoutLeavesPending(t *testing.T) {
	const chat = 93
	dir := t.TempDir()
	broken := telegramtest.NewServer(t)
	broken.Inject(telegramtest.Fault{Method: "sendMessage", Code: http.StatusInternalServerError})
	cfg := config(broken, dir)
	cfg.ShutdownTimeout = 50 * time.Millisecond
	first := openApp(t, broken, cfg, func(o *telegram.Options) { o.RetryBackoff = time.Minute })
	id := broken.PushText(telegramtest.User{ID: chat, LanguageCode: "en"}, "/start")
	if !broken.WaitConfirmed(id, wait) {
		t.Fatal("update not confirmed")
	}
	if calls := broken.WaitCalls("sendMessage", 1, wait); len(calls) == 0 {
		t.Fatal("no send tried")
	}
	begin := time.Now()
	if err := first.stop(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	// Without the timeout the retries would take minutes.
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("shutdown took %s with a %s shutdown timeout", took, cfg.ShutdownTimeout)
	}
	first.logs.waitFor(t, "shutdown flush timed out; replies left pending")
	// One message: the welcome on top of the menu.
	want := []string{msg(t, "en", "common.welcome", nil) + "\n\n" + msg(t, "en", "menu.prompt", nil)}
	if diff := cmp.Diff(want, pendingIn(t, dir)); diff != "" {
		t.Fatalf("pending after the shutdown (-want +got):\n%s", diff)
	}

	deliveredAfterRestart(t, dir, chat, want)
	if left := pendingIn(t, dir); len(left) != 0 {
		t.Errorf("replies still pending after the restart: %q", left)
	}
}
