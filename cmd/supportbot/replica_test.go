package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"supportbot/bot/telegram"
	"supportbot/bot/telegram/telegramtest"
	"supportbot/portal/demo"
	"supportbot/store/etcd/etcdtest"
)

// testKey is the token key every replica of a test shares.
const testKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// The guest conversation the replica tests run: a tracking deep link asks
// for the order's email; the email shows the shipment.
const (
	guestOrder    = "SB-104233"
	guestEmail    = "dana.levi@example.com"
	guestShipment = "RR314434889IL"
)

// etcdConfig returns the configuration of a replica on srv, storing in
// cluster, with the portal at portalURL and its metrics on a free port.
func etcdConfig(t *testing.T, srv *telegramtest.Server, cluster *etcdtest.Cluster, portalURL string) Config {
	c := config(srv, t.TempDir())
	c.Store = storeEtcd
	c.EtcdEndpoints = strings.Join(cluster.Endpoints(), ",")
	c.Key = testKey
	c.PortalURL = portalURL
	c.MetricsListen = "127.0.0.1:0"
	return c
}

// lookupGate holds the portal's guest order lookups while armed, so a
// test can act while a replica has updates in flight.
type lookupGate struct {
	mu      sync.Mutex
	release chan struct{} // nil: lookups pass
	held    int
}

func (g *lookupGate) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.release, g.held = make(chan struct{}), 0
}

func (g *lookupGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.release != nil {
		close(g.release)
		g.release = nil
	}
}

func (g *lookupGate) heldNow() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

func (g *lookupGate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/guest/orders/lookup" {
			g.mu.Lock()
			rel := g.release
			if rel != nil {
				g.held++
			}
			g.mu.Unlock()
			if rel != nil {
				select {
				case <-rel:
				case <-r.Context().Done():
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// lookupPortal serves the demo portal over httptest behind a lookupGate.
func lookupPortal(t *testing.T) (string, *lookupGate) {
	g := &lookupGate{}
	ps := httptest.NewServer(g.wrap(demo.New(demo.Options{})))
	t.Cleanup(ps.Close)
	t.Cleanup(g.open) // before ps.Close: nothing stays held
	return ps.URL, g
}

// eventually waits until cond holds, checking every 20 ms, and reports
// whether it did within timeout.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// readyz returns the status and body of GET /readyz at addr (0 if it
// does not answer).
func readyz(addr string) (int, string) {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metric returns the value of the sample name at addr's /metrics, "" if
// absent.
func metric(t *testing.T, addr, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// count counts the bot's messages in chat for which ok holds.
func count(srv *telegramtest.Server, chat int64, ok func(telegramtest.Message) bool) int {
	n := 0
	for _, m := range srv.Messages(chat) {
		if m.FromBot && ok(m) {
			n++
		}
	}
	return n
}

// TestReplicasOneActive runs two replicas on one etcd member, each with a
// Bot API of its own: only the elected one polls, the standby's /readyz
// says "standby" and its webhook-less process calls Telegram not at all.
// Stopped, the active one resigns, and the standby takes over the same
// conversation where it was.
func TestReplicasOneActive(t *testing.T) {
	cluster := etcdtest.StartCluster(t, 1)
	portalURL, _ := lookupPortal(t)
	srvA, srvB := telegramtest.NewServer(t), telegramtest.NewServer(t)
	a := openApp(t, srvA, etcdConfig(t, srvA, cluster, portalURL), nil)
	if !eventually(wait, func() bool { code, _ := readyz(a.m.MetricsAddr); return code == http.StatusOK }) {
		t.Fatalf("the first replica never became ready:\n%s", a.logs.String())
	}
	b := openApp(t, srvB, etcdConfig(t, srvB, cluster, portalURL), nil)
	b.logs.waitFor(t, "standby: waiting to become the active replica")

	const chat = 7100
	u := telegramtest.User{ID: chat, FirstName: "Dana", LanguageCode: "en"}
	askEmail := msg(t, "en", "order.ask_email.prompt", map[string]any{"order": guestOrder})
	srvA.PushText(u, "/start track_"+guestOrder)
	a.await(chat, 0, "the email prompt from the active replica", containing(askEmail))

	code, body := readyz(b.m.MetricsAddr)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "standby") {
		t.Errorf("standby /readyz = %d %q, want 503 saying standby", code, body)
	}
	if calls := srvB.Calls(""); len(calls) != 0 {
		t.Errorf("the standby called the Bot API %d times (first %s), want none", len(calls), calls[0].Method)
	}
	if got := metric(t, a.m.MetricsAddr, "supportbot_replica_active"); got != "1" {
		t.Errorf("active replica: supportbot_replica_active = %q, want 1", got)
	}
	if got := metric(t, b.m.MetricsAddr, "supportbot_replica_active"); got != "0" {
		t.Errorf("standby: supportbot_replica_active = %q, want 0", got)
	}
	if got := metric(t, a.m.MetricsAddr, "supportbot_store_commit_seconds_count"); got == "" || got == "0" {
		t.Errorf("supportbot_store_commit_seconds_count = %q, want commits counted", got)
	}

	// A graceful stop hands over at once: the standby continues the
	// conversation from the shared store.
	start := time.Now()
	if err := a.stop(); err != nil {
		t.Fatalf("first replica: Run = %v", err)
	}
	if !eventually(wait, func() bool { code, _ := readyz(b.m.MetricsAddr); return code == http.StatusOK }) {
		t.Fatalf("the standby never took over:\n%s", b.logs.String())
	}
	t.Logf("handover after a graceful stop: %v", time.Since(start).Round(time.Millisecond))
	// Each fake Bot API numbers updates from 1001: this one must not look
	// like the update the first replica handled.
	if _, err := srvB.PushRaw(textUpdate(5001, u, 5001, guestEmail)); err != nil {
		t.Fatal(err)
	}
	b.await(chat, 0, "the shipment, from the new active replica", containing(guestShipment))
	if n := len(srvA.Calls("getUpdates")); n == 0 {
		t.Errorf("the first replica never polled")
	}
}

// TestFencedExLeaderRefused: a replica whose etcd session is revoked while
// it holds a chat's update (a paused ex-leader) cannot commit it: its
// commit is fenced, nothing is written, nothing more is sent, and Run
// returns errNoLongerActive.
func TestFencedExLeaderRefused(t *testing.T) {
	cluster := etcdtest.StartCluster(t, 1)
	cli := cluster.Client(t)
	portalURL, gate := lookupPortal(t)
	srv := telegramtest.NewServer(t)
	cfg := etcdConfig(t, srv, cluster, portalURL)
	logs := newLogBuffer()
	m := NewMain()
	m.Config = cfg
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), io.Discard, logs
	m.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m.TelegramOptions = func(o *telegram.Options) { fastOptions(o) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		m.Close()
	}()
	if !eventually(wait, func() bool { code, _ := readyz(m.MetricsAddr); return code == http.StatusOK }) {
		t.Fatalf("the replica never became ready:\n%s", logs.String())
	}
	a := &app{t: t, m: m, srv: srv, logs: logs}

	const chat = 7200
	u := telegramtest.User{ID: chat, FirstName: "Dana", LanguageCode: "en"}
	srv.PushText(u, "/start track_"+guestOrder)
	prompt := a.await(chat, 0, "the email prompt", containing(msg(t, "en", "order.ask_email.prompt", map[string]any{"order": guestOrder})))

	sessionKey := cfg.EtcdPrefix + "s/" + telegram.Key(chat)
	before, err := cli.Get(ctx, sessionKey)
	if err != nil || len(before.Kvs) != 1 {
		t.Fatalf("session %s: %v, %d keys", sessionKey, err, len(before.Kvs))
	}

	gate.arm()
	id := srv.PushText(u, guestEmail)
	if !eventually(wait, func() bool { return gate.heldNow() == 1 }) {
		t.Fatalf("the email's portal lookup never came")
	}
	// Paused mid-update, the replica loses its leadership.
	if _, err := cli.Revoke(ctx, m.replica.session.Lease()); err != nil {
		t.Fatalf("revoke the replica's lease: %v", err)
	}
	gate.open()

	select {
	case err := <-done:
		done <- err // for the deferred stop
		if !errors.Is(err, errNoLongerActive) {
			t.Errorf("Run = %v, want errNoLongerActive", err)
		}
	case <-time.After(wait):
		t.Fatalf("Run did not return after the lease was revoked:\n%s", logs.String())
	}
	logs.waitFor(t, "no longer the active replica: stopping at once, another replica serves the customers now")
	fenced := false
	for _, rec := range logs.records(t) {
		if e, _ := rec["err"].(string); rec["msg"] == "handle update" && strings.Contains(e, "no longer the active one") {
			fenced = true
		}
	}
	if !fenced {
		t.Errorf("the held update's commit was not refused as fenced; logs:\n%s", logs.String())
	}
	after, err := cli.Get(context.Background(), sessionKey)
	if err != nil || len(after.Kvs) != 1 || after.Kvs[0].ModRevision != before.Kvs[0].ModRevision {
		t.Errorf("session %s changed after the replica was fenced: %v", sessionKey, err)
	}
	handled, err := cli.Get(context.Background(), cfg.EtcdPrefix+"h/telegram/"+strconv.FormatInt(id, 10))
	if err != nil || len(handled.Kvs) != 0 {
		t.Errorf("update %d recorded as handled by the fenced replica (%v)", id, err)
	}
	if n := count(srv, chat, func(msg telegramtest.Message) bool { return msg.ID > prompt.ID }); n != 0 {
		t.Errorf("the fenced replica sent %d more messages:\n%s", n, dump(a.botMessages(chat)))
	}
	if code, body := readyz(m.MetricsAddr); code == http.StatusOK {
		t.Errorf("/readyz of the fenced replica = %d %q, want not ready", code, body)
	}
}

// TestStandbyWebhook503: a standby in webhook mode serves the webhook's
// address, answering 503 to every post, so Telegram (or a load balancer)
// retries with the active replica.
func TestStandbyWebhook503(t *testing.T) {
	cluster := etcdtest.StartCluster(t, 1)
	portalURL, _ := lookupPortal(t)
	srvA, srvB := telegramtest.NewServer(t), telegramtest.NewServer(t)
	a := openApp(t, srvA, etcdConfig(t, srvA, cluster, portalURL), nil)
	if !eventually(wait, func() bool { code, _ := readyz(a.m.MetricsAddr); return code == http.StatusOK }) {
		t.Fatalf("the first replica never became ready:\n%s", a.logs.String())
	}
	cfg := etcdConfig(t, srvB, cluster, portalURL)
	cfg.TelegramWebhookListen = freeAddr(t)
	cfg.TelegramWebhookSecret = "hook-secret"
	b := openApp(t, srvB, cfg, nil)
	b.logs.waitFor(t, "standby: waiting to become the active replica")
	u := telegramtest.User{ID: 7400, FirstName: "Dana", LanguageCode: "en"}
	if code := post(t, "http://"+cfg.TelegramWebhookListen+"/", "hook-secret", textUpdate(1, u, 1, "/start")); code != http.StatusServiceUnavailable {
		t.Errorf("standby webhook answered %d, want 503", code)
	}
	if calls := srvB.Calls(""); len(calls) != 0 {
		t.Errorf("the standby called the Bot API %d times, want none", len(calls))
	}
}

// TestReplicaStartRefused: a replica refuses to start, saying why, when the
// cluster does not answer or holds sessions sealed with another key.
func TestReplicaStartRefused(t *testing.T) {
	cluster := etcdtest.StartCluster(t, 1)
	srv := telegramtest.NewServer(t)
	open := func(cfg Config) error {
		m := NewMain()
		m.Config = cfg
		m.Stdout, m.Stderr = io.Discard, io.Discard
		m.Logger = slog.New(slog.DiscardHandler)
		err := m.Open(context.Background())
		m.Close()
		return err
	}
	cfg := etcdConfig(t, srv, cluster, "")
	cfg.MetricsListen = ""
	if err := open(cfg); err != nil {
		t.Fatalf("first Open: %v", err)
	}

	other := cfg
	other.DataDir = t.TempDir()
	other.Key = strings.Repeat("ab", 32)
	err := open(other)
	if err == nil || !strings.Contains(err.Error(), "every replica must use the same key") || !strings.Contains(err.Error(), "SUPPORTBOT_KEY") {
		t.Errorf("Open with another key = %v, want an error telling to give every replica the same SUPPORTBOT_KEY", err)
	}

	down := cfg
	down.DataDir = t.TempDir()
	down.EtcdEndpoints = freeAddr(t) // nothing listens there
	down.EtcdUsername, down.EtcdPassword = "bot", "pw-never-shown"
	start := time.Now()
	err = open(down)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the etcd cluster at "+down.EtcdEndpoints) || strings.Contains(err.Error(), "pw-never-shown") {
		t.Errorf("Open on a dead cluster = %v, want it to say it cannot reach %s (and not the password)", err, down.EtcdEndpoints)
	}
	t.Logf("refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// TestReplicaNotReadyBeforeElected: from Open on, a replica is a standby
// until it wins the election; /readyz, served from the start of Run, must
// never answer 200 before that.
func TestReplicaNotReadyBeforeElected(t *testing.T) {
	cluster := etcdtest.StartCluster(t, 1)
	srv := telegramtest.NewServer(t)
	m := NewMain()
	m.Config = etcdConfig(t, srv, cluster, "")
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), io.Discard, io.Discard
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer m.Close()
	rec := httptest.NewRecorder()
	m.metricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "standby") {
		t.Errorf("/readyz of a replica not yet elected = %d %q, want 503 saying standby", rec.Code, rec.Body.String())
	}
}
