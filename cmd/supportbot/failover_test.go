package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"supportbot/bot/telegram/telegramtest"
	"supportbot/store/etcd/etcdtest"
)

// replicaProc is supportbot running as a process of its own: this test
// binary, re-executed as the command (see TestMain).
type replicaProc struct {
	name    string
	cmd     *exec.Cmd
	metrics string // host:port of /healthz, /readyz and /metrics
	logs    *logBuffer
	exited  chan struct{}
}

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startReplica starts a replica process configured by env, with a data
// directory of its own; it is killed when the test ends.
func startReplica(t *testing.T, name string, env []string) *replicaProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &replicaProc{name: name, metrics: freeAddr(t), logs: newLogBuffer(), exited: make(chan struct{})}
	p.cmd = exec.Command(exe)
	// Nothing of this machine's configuration: only what env sets.
	p.cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		for _, ev := range flagEnv {
			if k == ev {
				return true
			}
		}
		return strings.HasPrefix(k, "SUPPORTBOT_TEST_")
	})
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Env = append(p.cmd.Env, "SUPPORTBOT_TEST_REPLICA=1", "SUPPORTBOT_DATA_DIR="+t.TempDir(), "SUPPORTBOT_METRICS_LISTEN="+p.metrics)
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = strings.NewReader(""), io.Discard, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("replica %s logs:\n%s", p.name, p.logs.String())
		}
	})
	return p
}

// kill ends the process with SIGKILL and waits until it is gone.
func (p *replicaProc) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// waitActive waits until the replica's /readyz answers 200.
func (p *replicaProc) waitActive(t *testing.T, timeout time.Duration) {
	t.Helper()
	if !eventually(timeout, func() bool { code, _ := readyz(p.metrics); return code == http.StatusOK }) {
		code, body := readyz(p.metrics)
		t.Fatalf("replica %s not active after %v: /readyz %d %q", p.name, timeout, code, body)
	}
}

// TestFailoverSIGKILL runs two replica processes on a three-member etcd
// cluster. Customers run guest-tracking conversations; while the active
// replica holds every customer's email step (its portal lookup in flight),
// it is SIGKILLed; the standby takes over, handles the steps the dead one
// never committed, and the conversations go on. Three times, the killed
// replica restarting as the new standby. Every customer gets every reply
// exactly once. The takeover times are logged, not asserted.
func TestFailoverSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an etcd cluster and replica processes")
	}
	const (
		customers = 4
		kills     = 3
		slow      = time.Minute // generous: the race detector slows etcd
	)
	cluster := etcdtest.StartCluster(t, 3)
	portalURL, gate := lookupPortal(t)
	srv := telegramtest.NewServer(t)
	env := []string{
		"TELEGRAM_BOT_TOKEN=" + telegramtest.Token,
		"TELEGRAM_API_URL=" + srv.URL,
		"PORTAL_URL=" + portalURL,
		"SUPPORTBOT_STORE=etcd",
		"SUPPORTBOT_ETCD_ENDPOINTS=" + strings.Join(cluster.Endpoints(), ","),
		"SUPPORTBOT_KEY=" + testKey,
		"TELEGRAM_CHAT_RATE=0",
		"TELEGRAM_GLOBAL_RATE=0",
		"SUPPORTBOT_SHUTDOWN_TIMEOUT=2s",
		"SUPPORTBOT_LOG_LEVEL=info",
		"SUPPORTBOT_LOG_FORMAT=json",
	}
	active := startReplica(t, "r1", env)
	active.waitActive(t, slow)
	standby := startReplica(t, "r2", env)
	standby.logs.waitFor(t, "standby: waiting to become the active replica")

	var users []telegramtest.User
	for i := range customers {
		users = append(users, telegramtest.User{ID: int64(7301 + i), FirstName: "Dana", LanguageCode: "en"})
	}
	askEmail := msg(t, "en", "order.ask_email.prompt", map[string]any{"order": guestOrder})
	isPrompt := func(m telegramtest.Message) bool { return m.Text == askEmail }
	isShipment := containing(guestShipment)
	sayAll := func(text string) {
		for _, u := range users {
			srv.PushText(u, text)
		}
	}
	// waitAll waits until every customer has n bot messages matching ok.
	waitAll := func(what string, ok func(telegramtest.Message) bool, n int) {
		t.Helper()
		if !srv.WaitFor(slow, func() bool {
			for _, u := range users {
				if count(srv, u.ID, ok) < n {
					return false
				}
			}
			return true
		}) {
			for _, u := range users {
				t.Logf("chat %d:\n%s", u.ID, dump(slices.DeleteFunc(srv.Messages(u.ID), func(m telegramtest.Message) bool { return !m.FromBot })))
			}
			t.Fatalf("not every customer got %s #%d", what, n)
		}
	}

	var ready, firstSend []time.Duration
	round := 0
	for kill := range kills {
		round++
		sayAll("/start track_" + guestOrder)
		waitAll("the email prompt", isPrompt, round)

		// Every customer's email step is in flight in the active replica.
		gate.arm()
		sayAll(guestEmail)
		if !eventually(slow, func() bool { return gate.heldNow() == customers }) {
			t.Fatalf("kill %d: %d of %d lookups reached the portal", kill+1, gate.heldNow(), customers)
		}
		killed := time.Now()
		active.kill()
		gate.open()

		standby.waitActive(t, slow)
		ready = append(ready, time.Since(killed))
		waitAll("the shipment", isShipment, round)
		for _, c := range srv.Calls("sendMessage") {
			if c.OK() && c.Time.After(killed) {
				firstSend = append(firstSend, c.Time.Sub(killed))
				break
			}
		}
		t.Logf("kill %d of %s: %s ready after %v, first reply sent after %v", kill+1, active.name, standby.name,
			ready[kill].Round(time.Millisecond), firstSend[len(firstSend)-1].Round(time.Millisecond))

		restarted := startReplica(t, active.name, env)
		restarted.logs.waitFor(t, "standby: waiting to become the active replica")
		active, standby = standby, restarted
	}
	// The conversations go on with the last replica elected.
	round++
	sayAll("/start track_" + guestOrder)
	waitAll("the email prompt", isPrompt, round)
	sayAll(guestEmail)
	waitAll("the shipment", isShipment, round)

	for _, u := range users {
		if p, s := count(srv, u.ID, isPrompt), count(srv, u.ID, isShipment); p != round || s != round {
			t.Errorf("chat %d: %d email prompts and %d shipments, want %d of each (none lost, none doubled):\n%s",
				u.ID, p, s, round, dump(slices.DeleteFunc(srv.Messages(u.ID), func(m telegramtest.Message) bool { return !m.FromBot })))
		}
	}
	t.Logf("takeover after SIGKILL (kill → the standby's /readyz 200): %v, median %v", ready, median(ready).Round(time.Millisecond))
	t.Logf("takeover after SIGKILL (kill → the new active replica's first reply sent): %v, median %v", firstSend, median(firstSend).Round(time.Millisecond))
}

// median returns the median of ds (0 if empty).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
