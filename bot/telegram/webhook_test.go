package telegram_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
)

// rawGet writes a GET for path on conn and reads the answer's status.
func rawGet(t *testing.T, conn net.Conn, r *bufio.Reader, path string) int {
	t.Helper()
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: bot\r\n\r\n"); err != nil {
		t.Fatalf("write request: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestWebhookServesOnlyItsPath: the server on Listen answers on the path
// of the registered URL only; any other path is 404 and reaches nothing.
func TestWebhookServesOnlyItsPath(t *testing.T) {
	const secret = "path-s3cret"
	addr := freeAddr(t)
	h := newHarness(t, func(o *telegram.Options) {
		o.Webhook = telegram.Webhook{Listen: addr, Secret: secret, URL: "https://bot.example.com/telegram/hook"}
	})
	h.start()
	h.logs.waitFor(t, "webhook listening")
	for _, path := range []string{"/", "/telegram", "/telegram/hook/x", "/metrics"} {
		if code, err := postUpdate("http://"+addr+path, secret, 1, 5, "wrong door"); err != nil || code != http.StatusNotFound {
			t.Errorf("POST %s: status %d (%v), want 404", path, code, err)
		}
	}
	if code, err := postUpdate("http://"+addr+"/telegram/hook", secret, 2, 5, "front door"); err != nil || code != http.StatusOK {
		t.Errorf("POST /telegram/hook: status %d (%v), want 200", code, err)
	}
	if got := h.eng.inboundsFor(telegram.Key(5)); len(got) != 1 || got[0].Text != "front door" {
		t.Errorf("engine got %+v, want only the update posted to the webhook's path", got)
	}
	registered := func() bool {
		url, s := h.srv.Webhook()
		return url == "https://bot.example.com/telegram/hook" && s == secret
	}
	if !h.srv.WaitFor(wait, registered) {
		t.Errorf("webhook not registered with its secret; setWebhook calls: %+v", h.srv.Calls("setWebhook"))
	}
}

// TestWebhookIdleConnectionClosed: a kept-alive connection left idle is
// closed by the server after Webhook.IdleTimeout.
func TestWebhookIdleConnectionClosed(t *testing.T) {
	addr := freeAddr(t)
	h := newHarness(t, func(o *telegram.Options) {
		o.Webhook = telegram.Webhook{Listen: addr, Secret: "idle", Path: "/hook", IdleTimeout: 50 * time.Millisecond}
	})
	h.start()
	h.logs.waitFor(t, "webhook listening")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if code := rawGet(t, conn, r, "/elsewhere"); code != http.StatusNotFound {
		t.Fatalf("GET /elsewhere: %d, want 404", code)
	}
	// The connection is kept alive, then idle: the server must close it.
	conn.SetReadDeadline(time.Now().Add(wait))
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("idle connection still open after %s", wait)
		}
		t.Fatalf("read on the idle connection: %v, want EOF", err)
	}
}

// TestWebhookConnectionCap: with Webhook.MaxConns open connections the
// server accepts no more (and says so once in the log) until one closes.
func TestWebhookConnectionCap(t *testing.T) {
	addr := freeAddr(t)
	h := newHarness(t, func(o *telegram.Options) {
		o.Webhook = telegram.Webhook{Listen: addr, Secret: "cap", Path: "/hook", MaxConns: 2}
	})
	h.start()
	h.logs.waitFor(t, "webhook listening")
	dial := func() net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	first, _ := dial(), dial()
	// The server took both and now waits for a free slot.
	h.logs.waitFor(t, "webhook connections at the limit: more wait to be accepted")

	third := dial() // connects (the kernel's backlog), not accepted yet
	answered := make(chan int, 1)
	go func() {
		r := bufio.NewReader(third)
		io.WriteString(third, "GET /elsewhere HTTP/1.1\r\nHost: bot\r\n\r\n")
		third.SetReadDeadline(time.Now().Add(wait))
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case code := <-answered:
		t.Fatalf("a third connection was served (%d) while two were open", code)
	default:
	}
	first.Close()
	if code := <-answered; code != http.StatusNotFound {
		t.Errorf("third connection, once a slot was free: status %d, want 404", code)
	}
	for _, rec := range h.logs.records(t) {
		if rec["msg"] == "webhook connections at the limit: more wait to be accepted" && rec["max_conns"] != float64(2) {
			t.Errorf("limit logged with max_conns %v, want 2", rec["max_conns"])
		}
	}
}

// TestSetWebhookRetried: a 429 (after its retry_after), a 5xx or a
// dropped connection to setWebhook at start is retried until it succeeds;
// Run goes on serving. A refusal (400) stops Run with an error.
func TestSetWebhookRetried(t *testing.T) {
	const hook = "https://bot.example.com/hook"
	for _, tc := range []struct {
		name  string
		fault telegramtest.Fault
	}{
		{"429", telegramtest.Fault{Method: "setWebhook", Times: 1, Code: http.StatusTooManyRequests, RetryAfter: 1}},
		{"500", telegramtest.Fault{Method: "setWebhook", Times: 2, Code: http.StatusInternalServerError}},
		{"dropped", telegramtest.Fault{Method: "setWebhook", Times: 1, Drop: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			h := newHarness(t, func(o *telegram.Options) {
				o.Webhook = telegram.Webhook{Listen: addr, Secret: "retry", URL: hook}
			})
			h.srv.Inject(tc.fault)
			h.start()
			times := max(tc.fault.Times, 1)
			calls := h.waitCalls("setWebhook", times+1)
			for i, c := range calls {
				if ok := i == times; c.OK() != ok {
					t.Errorf("setWebhook call %d answered %d, want ok=%t", i+1, c.Code, ok)
				}
			}
			if !h.srv.WaitFor(wait, func() bool { url, _ := h.srv.Webhook(); return url == hook }) {
				t.Fatal("webhook not registered")
			}
			h.logs.waitFor(t, "setWebhook failed, retrying")
			select {
			case err := <-h.done:
				t.Fatalf("Run returned %v after a setWebhook failure it could retry", err)
			default:
			}
			if code, err := postUpdate("http://"+addr+"/hook", "retry", 1, 5, "hi"); err != nil || code != http.StatusOK {
				t.Errorf("update after the retry: status %d (%v), want 200", code, err)
			}
			if tc.fault.RetryAfter > 0 {
				for _, rec := range h.logs.records(t) {
					if rec["msg"] == "setWebhook failed, retrying" && rec["retry_in"] != "1s" {
						t.Errorf("retry in %v, want retry_after's 1s", rec["retry_in"])
					}
				}
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		addr := freeAddr(t)
		logs := &logBuffer{}
		srv := telegramtest.NewServer(t)
		opt := options(srv, logs)
		opt.Webhook = telegram.Webhook{Listen: addr, Secret: "retry", URL: hook}
		ch, err := telegram.New(telegramtest.Token, newEngine(), opt)
		if err != nil {
			t.Fatal(err)
		}
		srv.Inject(telegramtest.Fault{Method: "setWebhook", Code: http.StatusBadRequest, Description: "Bad Request: bad webhook: Failed to resolve host"})
		err = ch.Run(t.Context())
		if err == nil || !strings.Contains(err.Error(), "setWebhook") {
			t.Fatalf("Run = %v, want a setWebhook error", err)
		}
		if n := len(srv.Calls("setWebhook")); n != 1 {
			t.Errorf("%d setWebhook calls, want 1: a refusal is not retried", n)
		}
		// The listener is closed again.
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("webhook address still in use after Run returned: %v", err)
		}
		ln.Close()
	})
}

// TestWebhookURLScheme: Telegram's own Bot API takes https webhooks only;
// a Bot API server of one's own (a local one) takes http too, and Run
// registers it.
func TestWebhookURLScheme(t *testing.T) {
	eng := newEngine()
	for _, tc := range []struct {
		api, url string
		ok       bool
	}{
		{"", "http://bot.example.com/hook", false},
		{telegram.DefaultAPIURL, "http://bot.example.com/hook", false},
		{"https://API.telegram.org/", "http://bot.example.com/hook", false},
		{"", "https://bot.example.com/hook", true},
		{"http://127.0.0.1:8081", "http://bot:8080/hook", true},
		{"http://127.0.0.1:8081", "https://bot.example.com/hook", true},
		{"http://127.0.0.1:8081", "ftp://bot/hook", false},
		{"http://127.0.0.1:8081", "/hook", false},
	} {
		_, err := telegram.New(telegramtest.Token, eng, telegram.Options{APIURL: tc.api, Webhook: telegram.Webhook{Secret: "s", URL: tc.url}})
		if (err == nil) != tc.ok {
			t.Errorf("API %q, webhook %q: New = %v, want ok=%t", tc.api, tc.url, err, tc.ok)
		}
	}

	const hook = "http://bot.internal:8080/hook"
	addr := freeAddr(t)
	h := newHarness(t, func(o *telegram.Options) {
		o.Webhook = telegram.Webhook{Listen: addr, Secret: "local", URL: hook}
	})
	h.srv.SetLocal(true)
	h.start()
	if !h.srv.WaitFor(wait, func() bool { url, _ := h.srv.Webhook(); return url == hook }) {
		t.Fatalf("http webhook not registered with a local Bot API server; setWebhook calls: %+v", h.srv.Calls("setWebhook"))
	}
	if code, err := postUpdate("http://"+addr+"/hook", "local", 1, 5, "hi"); err != nil || code != http.StatusOK {
		t.Errorf("update on the http webhook's path: status %d (%v), want 200", code, err)
	}
}

// TestWebhookBodies: what the webhook answers for each kind of body.
// Telegram redelivers on anything but 2xx, so only a body that is not an
// update at all gets 400; an update the SDK's types reject is answered
// 200 and ignored, as is one with nothing the bot handles.
func TestWebhookBodies(t *testing.T) {
	srv := telegramtest.NewServer(t)
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine()
		ch, stop := runInBubble(t, srv, eng, newCallClock(), nil)
		defer stop()
		synctest.Wait()
		h := ch.Handler()
		for _, c := range []struct {
			name, body string
			code       int
		}{
			{"not JSON", "hello", http.StatusBadRequest},
			{"no update_id", `{"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"text":"hi"}}`, http.StatusBadRequest},
			{"update_id only", `{"update_id":7}`, http.StatusOK},
			{"rejected by the SDK's types", `{"update_id":8,"message":"not an object"}`, http.StatusOK},
			{"a text message", string(textUpdate(9, 4242, "/help")), http.StatusOK},
		} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, telegramtest.WebhookRequest("/", "bubble", []byte(c.body)))
			if w.Code != c.code {
				t.Errorf("%s: status %d, want %d", c.name, w.Code, c.code)
			}
		}
		synctest.Wait()
		inbounds, _, _ := eng.snapshot()
		if len(inbounds) != 1 || inbounds[0].UpdateID != 9 || inbounds[0].Text != "/help" {
			t.Errorf("updates handled %+v, want only 9's /help", inbounds)
		}
	})
}

// TestUpdateZeroDeduplicated: an update with id 0 delivered twice is
// handled once. The engine takes UpdateID 0 as "no id" and never
// deduplicates it, so the adapter maps Telegram's id 0 to another.
func TestUpdateZeroDeduplicated(t *testing.T) {
	srv := telegramtest.NewServer(t)
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine()
		ch, stop := runInBubble(t, srv, eng, newCallClock(), nil)
		defer stop()
		synctest.Wait()
		h := ch.Handler()
		for range 2 {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, telegramtest.WebhookRequest("/", "bubble", textUpdate(0, 4343, "hi")))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", w.Code)
			}
		}
		synctest.Wait()
		inbounds, delivered, undelivered := eng.snapshot()
		if len(inbounds) != 2 || inbounds[0].UpdateID == 0 || inbounds[0].UpdateID != inbounds[1].UpdateID {
			t.Errorf("inbounds %+v, want the same non-zero UpdateID twice", inbounds)
		}
		if n := len(delivered) + undelivered; n != 1 {
			t.Errorf("%d replies committed for update 0 delivered twice, want 1", n)
		}
	})
}
