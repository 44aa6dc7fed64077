package flows_test

import (
	"context"
	"strings"
	"testing"

	"supportbot/bot"
	"supportbot/portal"
)

const forwardPath = "PUT /v1/plans/P-2004/forwarding"

// confirmForwarding logs Michael in and brings him to the confirm screen
// of forwarding his calls to 050-123-4567.
func confirmForwarding(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, "en")
	out := e.run("> /forwarding\n> michael.cohen@example.com\n> demo-michael\n> 1\n> 050-123-4567\n")
	if !strings.Contains(out, "Please confirm call forwarding") {
		t.Fatalf("no confirm screen:\n%s", out)
	}
	return e
}

// forwardedTo reads the plan back from the portal's own API.
func forwardedTo(t *testing.T, e *env) portal.Forwarding {
	t.Helper()
	c := portal.NewClient(e.url)
	auth, err := c.Login(context.Background(), "michael.cohen@example.com", "demo-michael")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan(context.Background(), auth.Token, "P-2004")
	if err != nil {
		t.Fatal(err)
	}
	return p.Forwarding
}

// TestWriteRetriedWithItsKey: the portal applies the write but its answer
// is lost; "Try again" sends the same Idempotency-Key, so the portal
// replays its first answer instead of applying the write again.
func TestWriteRetriedWithItsKey(t *testing.T) {
	e := confirmForwarding(t)
	out := e.run("> @portal lost\n> 1\n")
	if !strings.Contains(out, "Try again") {
		t.Fatalf("no Try again after a lost answer:\n%s", out)
	}
	out = e.run("> @portal\n> 1\n")
	if !strings.Contains(out, "now forwarded to +972 50-123-4567") {
		t.Fatalf("retry did not save:\n%s", out)
	}
	e.fault.mu.Lock()
	keys := e.fault.keys[forwardPath]
	e.fault.mu.Unlock()
	if len(keys) < 2 {
		t.Fatalf("%d forwarding writes, want the lost one and the retry", len(keys))
	}
	for _, k := range keys {
		if k == "" || k != keys[0] {
			t.Fatalf("Idempotency-Keys of the attempts = %q, want one key throughout", keys)
		}
	}
	if got := forwardedTo(t, e); got.To != "+972501234567" || !got.Enabled {
		t.Errorf("portal forwarding = %+v, want to +972501234567", got)
	}
}

// TestWriteKeySurvivesRestart: the key is committed with the confirm
// screen, so after a restart the confirmed write carries the key the
// session held before it.
func TestWriteKeySurvivesRestart(t *testing.T) {
	e := confirmForwarding(t)
	ctx := context.Background()
	sess, ok, err := e.db.Load(ctx, "console:t")
	if err != nil || !ok {
		t.Fatalf("load session: %v, %v", ok, err)
	}
	key := sess.Top().Vars["_key"]
	if key == "" {
		t.Fatal("the confirm screen committed no Idempotency-Key")
	}
	restarted := e.start()
	envs, err := restarted.Handle(ctx, bot.Inbound{Key: "console:t", UpdateID: 9001, Data: "forwarding.confirm_set|k:"})
	if err != nil || len(envs) == 0 {
		t.Fatalf("confirm after restart: %v, %d replies", err, len(envs))
	}
	e.fault.mu.Lock()
	keys := e.fault.keys[forwardPath]
	e.fault.mu.Unlock()
	if len(keys) != 1 || keys[0] != key {
		t.Errorf("write keys = %q, want [%q] (the one committed with the confirm screen)", keys, key)
	}
	if got := forwardedTo(t, e); got.To != "+972501234567" {
		t.Errorf("portal forwarding = %+v, want to +972501234567", got)
	}
}
