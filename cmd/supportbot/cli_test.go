package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMain lets TestExitCodes run this test binary as the command itself,
// and TestFailoverSIGKILL as a replica process configured by its
// environment.
func TestMain(m *testing.M) {
	if os.Getenv("SUPPORTBOT_TEST_REPLICA") != "" {
		os.Args = []string{"supportbot"}
		os.Exit(mainWithArgs())
	}
	if os.Getenv("SUPPORTBOT_TEST_AS_MAIN") == "1" {
		os.Args = append([]string{"supportbot"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestExitCodes runs the command as a process: help is no error, a command
// line it cannot run exits 2, a bad setting exits 1 with the reason.
func TestExitCodes(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		env    []string
		code   int
		stdout string // the output must hold these
		stderr string
	}{
		{"-h", []string{"-h"}, nil, 0, "demo-portal", ""},
		{"--help", []string{"--help"}, nil, 0, "-data-dir", ""},
		{"help", []string{"help"}, nil, 0, "backup", ""},
		{"backup -h", []string{"backup", "-h"}, nil, 0, "-to", ""},
		{"unknown command", []string{"bogus"}, nil, 2, "", `unknown command "bogus"`},
		{"bad flag", []string{"--bogus"}, nil, 2, "", "-bogus"},
		{"bad env", nil, []string{"SUPPORTBOT_LANG=fr"}, 1, "", "SUPPORTBOT_LANG=fr: want en or he"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(exe, tc.args...)
			cmd.Env = append(os.Environ(), "SUPPORTBOT_TEST_AS_MAIN=1", "SUPPORTBOT_DATA_DIR="+t.TempDir(),
				"SUPPORTBOT_LANG=", "SUPPORTBOT_LOG_LEVEL=", "SUPPORTBOT_KEY=", "PORTAL_URL=", "TELEGRAM_BOT_TOKEN=", "TELEGRAM_WEBHOOK_LISTEN=")
			cmd.Env = append(cmd.Env, tc.env...)
			cmd.Stdin = strings.NewReader("") // if it starts a chat after all, it ends at once
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr.String())
			}
		})
	}
}

// TestHelp: -h, --help and help print the usage, subcommands included, to
// stdout and are no error.
func TestHelp(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"supportbot demo-portal", "supportbot backup", "supportbot help", "-data-dir", "SUPPORTBOT_LANG"}},
		{[]string{"--help"}, []string{"supportbot demo-portal", "supportbot backup", "-telegram-token"}},
		{[]string{"help"}, []string{"supportbot demo-portal", "supportbot backup"}},
		{[]string{"demo-portal", "--help"}, []string{"supportbot demo-portal", "-listen"}},
		{[]string{"backup", "-h"}, []string{"supportbot backup", "-to", "-data-dir"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr); err != nil {
				t.Fatalf("run(%q) = %v, want nil\nstderr:\n%s", tc.args, err, stderr.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("usage lacks %q:\n%s", want, stdout.String())
				}
			}
		})
	}
}

// TestStrayArguments: an unknown command or an argument left after the
// flags stops the command before it starts, saying what is wrong.
func TestStrayArguments(t *testing.T) {
	clearEnv(t)
	t.Setenv("SUPPORTBOT_DATA_DIR", t.TempDir())
	for _, tc := range []struct {
		name string
		args []string
		want []string // stderr must say these
	}{
		{"unknown command", []string{"bogus"}, []string{`unknown command "bogus"`, "demo-portal", "backup"}},
		{"misspelt command", []string{"demo-portl", "--listen", ":0"}, []string{`unknown command "demo-portl"`}},
		{"argument after flags", []string{"--lang", "he", "extra"}, []string{`unexpected argument "extra"`}},
		{"command after flags", []string{"--lang", "he", "backup"}, []string{`"backup" must come first`}},
		{"demo-portal argument", []string{"demo-portal", "extra"}, []string{`unexpected argument "extra"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// It must stop before it starts anything, so a done context
			// keeps a run that would start from lasting.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var stdout, stderr bytes.Buffer
			err := run(ctx, tc.args, strings.NewReader("/help\n"), &stdout, &stderr)
			if !errors.Is(err, errUsage) {
				t.Fatalf("run(%q) = %v, want errUsage", tc.args, err)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("it started anyway:\n%s", stdout.String())
			}
		})
	}
}

// TestParseFlagsNamesEnv: a bad value from the environment is reported by
// its variable; a flag that overrides it, by the flag. A key is never
// echoed.
func TestParseFlagsNamesEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const badKey = "not-a-key-0123"
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		want   string // the error must hold this
		absent string // and not this
	}{
		{"language", map[string]string{"SUPPORTBOT_LANG": "fr"}, nil, "SUPPORTBOT_LANG=fr: want en or he", "--lang"},
		{"flag over env", map[string]string{"SUPPORTBOT_LANG": "en"}, []string{"--lang", "fr"}, "--lang=fr", "SUPPORTBOT_LANG"},
		{"log level", map[string]string{"SUPPORTBOT_LOG_LEVEL": "loud"}, nil, "SUPPORTBOT_LOG_LEVEL=loud", "--log-level"},
		{"key", map[string]string{"SUPPORTBOT_KEY": badKey}, nil, "SUPPORTBOT_KEY: ", badKey},
		{"portal URL", map[string]string{"PORTAL_URL": "localhost:8081"}, nil, "PORTAL_URL=localhost:8081: want an http:// or https:// URL", "--portal-url"},
		{"data dir", map[string]string{"SUPPORTBOT_DATA_DIR": filepath.Join(file, "data")}, nil, "SUPPORTBOT_DATA_DIR=" + filepath.Join(file, "data"), "--data-dir"},
		{"webhook", map[string]string{"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1:0"}, nil, "TELEGRAM_WEBHOOK_LISTEN needs --telegram-webhook-secret", "--telegram-webhook-listen"},
		{"quoted value", map[string]string{"SUPPORTBOT_LANG": "e n"}, nil, `SUPPORTBOT_LANG="e n"`, "--lang"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			if _, ok := tc.env["SUPPORTBOT_DATA_DIR"]; !ok {
				t.Setenv("SUPPORTBOT_DATA_DIR", t.TempDir())
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			m := NewMain()
			m.Stdout, m.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
			err := m.ParseFlags(tc.args)
			if err == nil {
				t.Fatalf("ParseFlags = nil, want an error naming %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.absent) {
				t.Errorf("ParseFlags = %q, want it to say %q and not %q", err, tc.want, tc.absent)
			}
		})
	}
}

// TestConsoleNotesInLanguage: the terminal chat's own remarks come in the
// chat's language.
func TestConsoleNotesInLanguage(t *testing.T) {
	clearEnv(t)
	for _, lang := range []string{"en", "he"} {
		t.Run(lang, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"--data-dir", t.TempDir(), "--lang", lang}
			input := "/login\ndana.levi@example.com\ndemo-dana\n"
			if err := run(context.Background(), args, strings.NewReader(input), &stdout, &stderr); err != nil {
				t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
			}
			if want := "  " + msg(t, lang, "console.deleted", nil) + "\n"; !strings.Contains(stdout.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, stdout.String())
			}
		})
	}
}

// TestREADMELinks: the documentation points only inside the repository,
// at files that exist, so a clone reads whole.
func TestREADMELinks(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile("\\]\\(([^)\\s]+)\\)|`(\\.\\./[^`]*)`")
	for _, doc := range []string{"README.md", "locales/README.md", "portal/demo/README.md"} {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1] + m[2]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			path := filepath.Join(root, filepath.Dir(doc), target)
			if rel, err := filepath.Rel(root, path); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s points outside the repository: %s", doc, target)
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s points at a missing file: %s", doc, target)
			}
		}
	}
}
