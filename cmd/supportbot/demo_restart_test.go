package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoLoginSurvivesRestart logs in on the embedded demo portal in the
// terminal, quits, and starts again on the same data directory: the
// session's portal token is still good with the restarted demo, so a
// logged-in command works without "Your login has expired".
func TestDemoLoginSurvivesRestart(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		name, email, password, order string
		args                         []string
	}{
		{"seeded", danaEmail, danaPassword, "SB-104233", nil},
		{"generated", "user42@demo.example", "demo-pass-42", "SB-800042", []string{"--demo-customers", "50"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"--data-dir", dir, "--lang", "en"}, tc.args...)
			runConsole := func(input string) (stdout, stderr string) {
				t.Helper()
				var out, errOut bytes.Buffer
				if err := run(context.Background(), args, strings.NewReader(input), &out, &errOut); err != nil {
					t.Fatalf("run: %v\nstderr:\n%s", err, errOut.String())
				}
				return out.String(), errOut.String()
			}

			out1, err1 := runConsole("/login\n" + tc.email + "\n" + tc.password + "\n")
			loggedIn, _, _ := strings.Cut(msg(t, "en", "login.done.prompt", map[string]any{"Name": "\x00"}), "\x00")
			if !strings.Contains(out1, loggedIn) {
				t.Fatalf("first run did not log in (no %q):\n%s", loggedIn, out1)
			}
			out2, err2 := runConsole("/orders\n")
			if expired := msg(t, "en", "login.expired", nil); strings.Contains(out2, expired) {
				t.Errorf("after a restart the login expired:\n%s", out2)
			}
			if strings.Contains(out2, msg(t, "en", "login.ask_email.prompt", nil)) {
				t.Errorf("after a restart the bot asks to log in again:\n%s", out2)
			}
			if !strings.Contains(out2, tc.order) {
				t.Errorf("after a restart /orders lacks %s:\n%s", tc.order, out2)
			}

			// Neither the data key nor the demo key derived from it shows.
			raw, err := os.ReadFile(filepath.Join(dir, "token.key"))
			if err != nil {
				t.Fatal(err)
			}
			dataKey := strings.TrimSpace(string(raw))
			key, err := hex.DecodeString(dataKey)
			if err != nil {
				t.Fatal(err)
			}
			demoKey := hex.EncodeToString(demoTokenKey(key))
			for _, s := range []string{out1, err1, out2, err2} {
				if strings.Contains(strings.ToLower(s), dataKey) || strings.Contains(strings.ToLower(s), demoKey) {
					t.Errorf("a key appears in the output:\n%s", s)
				}
			}
			t.Logf("second run:\n%s", out2)
		})
	}
}
