package flows_test

import (
	"context"
	"strings"
	"testing"

	"supportbot/bot/console"
)

// heldSecrets reads the passwords the session holds, as the store returns them.
func heldSecrets(t *testing.T, e *env) map[string]string {
	t.Helper()
	sess, ok, err := e.db.Load(context.Background(), "console:t")
	if err != nil || !ok {
		t.Fatalf("load session: %v, %v", ok, err)
	}
	return sess.Secrets
}

// TestPasswordChangeSurvivesRestart: the current and new passwords are
// held (encrypted) between steps, so a restart mid-change loses nothing,
// and once the change is done nothing is held any more.
func TestPasswordChangeSurvivesRestart(t *testing.T) {
	e := newEnv(t, "en")
	e.run("> /login\n> dana.levi@example.com\n> demo-dana\n> /profile\n> 3\n> demo-dana\n> brand-new-secret\n")
	if got := heldSecrets(t, e); got["current"] != "demo-dana" || got["new"] != "brand-new-secret" {
		t.Fatalf("held before the repeat = %v, want current and new", got)
	}
	// A new process on the same store and portal.
	e.engine = e.start()
	e.chat = console.New(e.engine, nil, &e.out, console.Options{Key: "console:t", Lang: "en", ShowData: true})
	out := e.run("> brand-new-secret\n")
	if !strings.Contains(out, "Your password has been changed") {
		t.Fatalf("after a restart the change did not finish:\n%s", out)
	}
	if got := heldSecrets(t, e); len(got) != 0 {
		t.Errorf("held after the change = %v, want nothing", got)
	}
	out = e.run("> /logout\n> /login\n> dana.levi@example.com\n> brand-new-secret\n")
	if !strings.Contains(out, "You're logged in") {
		t.Errorf("the new password does not log in:\n%s", out)
	}
}

// TestHeldPasswordsDroppedOnLeaving: leaving the journey in any way drops
// the held passwords at once.
func TestHeldPasswordsDroppedOnLeaving(t *testing.T) {
	for _, leave := range []string{"/cancel", "/menu", "/track", "/start\n> [menu|]", "@wait 31m\n> /help"} {
		t.Run(leave, func(t *testing.T) {
			e := newEnv(t, "en")
			e.run("> /login\n> dana.levi@example.com\n> demo-dana\n> /profile\n> 3\n> demo-dana\n")
			if got := heldSecrets(t, e); got["current"] == "" {
				t.Fatalf("held = %v, want the current password", got)
			}
			e.run("> " + leave + "\n")
			if got := heldSecrets(t, e); len(got) != 0 {
				t.Errorf("after %s held = %v, want nothing", leave, got)
			}
		})
	}
}
