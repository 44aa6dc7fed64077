package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"supportbot/store"
)

// Config is everything supportbot reads from flags and the environment.
// Only this package reads the environment.
type Config struct {
	DataDir       string
	Lang          string
	PortalURL     string
	DemoCustomers int
	Key           string
	IdleTimeout   time.Duration
	LogLevel      string

	TelegramToken         string
	TelegramAPIURL        string
	TelegramWebhookListen string
	TelegramWebhookSecret string
	TelegramWebhookURL    string

	// fromEnv names, per flag, the environment variable its value came
	// from (set by ParseFlags), so errors name what the operator set.
	fromEnv map[string]string
}

// flagEnv maps each flag with an environment fallback to its variable.
var flagEnv = map[string]string{
	"data-dir":                "SUPPORTBOT_DATA_DIR",
	"lang":                    "SUPPORTBOT_LANG",
	"portal-url":              "PORTAL_URL",
	"key":                     "SUPPORTBOT_KEY",
	"log-level":               "SUPPORTBOT_LOG_LEVEL",
	"telegram-token":          "TELEGRAM_BOT_TOKEN",
	"telegram-api-url":        "TELEGRAM_API_URL",
	"telegram-webhook-listen": "TELEGRAM_WEBHOOK_LISTEN",
	"telegram-webhook-secret": "TELEGRAM_WEBHOOK_SECRET",
	"telegram-webhook-url":    "TELEGRAM_WEBHOOK_URL",
}

// DefaultConfig returns the configuration of a plain run.
func DefaultConfig() Config {
	return Config{
		DataDir:     "supportbot-data",
		Lang:        "en",
		IdleTimeout: 30 * time.Minute,
		LogLevel:    "warn",
	}
}

// ParseFlags reads flags, with environment variables as fallbacks, and
// validates the result. -h or --help prints the usage to Stdout and
// returns flag.ErrHelp; a command line it cannot run is explained on
// Stderr and returns errUsage.
func (m *Main) ParseFlags(args []string) error {
	c := &m.Config
	fs := flag.NewFlagSet("supportbot", flag.ContinueOnError)
	str := func(p *string, name, usage string) {
		if ev, ok := flagEnv[name]; ok {
			if v := os.Getenv(ev); v != "" {
				*p = v
			}
			usage += " (env " + ev + ")"
		}
		fs.StringVar(p, name, *p, usage)
	}
	str(&c.DataDir, "data-dir", "directory for the session database, the key file and the terminal chat's log")
	str(&c.Lang, "lang", "default language: en or he")
	str(&c.PortalURL, "portal-url", "company backend base URL; empty runs the embedded demo portal")
	fs.IntVar(&c.DemoCustomers, "demo-customers", c.DemoCustomers, "generate this many extra demo customers (see README)")
	str(&c.Key, "key", "64 hex chars: key encrypting portal tokens at rest; empty uses <data-dir>/token.key, created on first run")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "end a conversation step left idle this long")
	str(&c.LogLevel, "log-level", "debug, info, warn or error")
	str(&c.TelegramToken, "telegram-token", "Telegram bot token; empty runs the terminal chat")
	str(&c.TelegramAPIURL, "telegram-api-url", "Bot API server URL")
	str(&c.TelegramWebhookListen, "telegram-webhook-listen", "host:port to serve the webhook on; empty uses long polling")
	str(&c.TelegramWebhookSecret, "telegram-webhook-secret", "webhook secret token, required with a webhook")
	str(&c.TelegramWebhookURL, "telegram-webhook-url", "public webhook URL to register with setWebhook")
	if err := parseArgs(fs, mainUsage, args, m.Stdout, m.Stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(orStderr(m.Stderr), "supportbot: %s (commands: %s; supportbot -h lists the flags)\n", badArg(args, fs.Arg(0)), strings.Join(commands, ", "))
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c.fromEnv = map[string]string{}
	for name, ev := range flagEnv {
		if !set[name] && os.Getenv(ev) != "" {
			c.fromEnv[name] = ev
		}
	}
	return c.Validate()
}

// badArg says what is wrong with arg, the first argument left after the
// flags of args.
func badArg(args []string, arg string) string {
	switch {
	case slices.Contains(commands, arg):
		return fmt.Sprintf("the command %q must come first, before any flag", arg)
	case len(args) > 0 && args[0] == arg:
		return fmt.Sprintf("unknown command %q", arg)
	default:
		return fmt.Sprintf("unexpected argument %q", arg)
	}
}

// name names a flag as the operator set it: --lang, or SUPPORTBOT_LANG if
// its value came from the environment.
func (c *Config) name(flag string) string {
	if ev, ok := c.fromEnv[flag]; ok {
		return ev
	}
	return "--" + flag
}

// setting names a flag and its value as the operator set them:
// --lang=fr, or SUPPORTBOT_LANG=fr.
func (c *Config) setting(flag string, value any) string {
	v := fmt.Sprint(value)
	if v == "" || strings.ContainsAny(v, " \t'\"\\") || strconv.Quote(v) != `"`+v+`"` {
		v = strconv.Quote(v)
	}
	return c.name(flag) + "=" + v
}

// Validate checks the configuration and says what is wrong, naming each
// setting as the operator gave it (a flag, or its environment variable).
func (c *Config) Validate() error {
	var errs []error
	switch c.Lang {
	case "en", "he":
	default:
		errs = append(errs, fmt.Errorf("%s: want en or he", c.setting("lang", c.Lang)))
	}
	if c.DemoCustomers < 0 {
		errs = append(errs, fmt.Errorf("%s: must not be negative", c.setting("demo-customers", c.DemoCustomers)))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s: must be positive", c.setting("idle-timeout", c.IdleTimeout)))
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	if c.Key != "" {
		if _, err := store.ParseKey(c.Key); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name("key"), err)) // never the key itself
		}
	}
	for _, u := range []struct{ flag, value string }{{"portal-url", c.PortalURL}, {"telegram-api-url", c.TelegramAPIURL}} {
		if u.value == "" {
			continue
		}
		if p, err := url.Parse(u.value); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s: want an http:// or https:// URL", c.setting(u.flag, u.value)))
		}
	}
	if c.TelegramWebhookListen != "" && c.TelegramWebhookSecret == "" {
		errs = append(errs, fmt.Errorf("%s needs --telegram-webhook-secret (TELEGRAM_WEBHOOK_SECRET)", c.name("telegram-webhook-listen")))
	}
	if err := writableDir(c.DataDir); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", c.setting("data-dir", c.DataDir), err))
	}
	return errors.Join(errs...)
}

func (c *Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("%s: want debug, info, warn or error", c.setting("log-level", c.LogLevel))
	}
	return l, nil
}

// writableDir creates dir if needed and proves it is writable.
func writableDir(dir string) error {
	if dir == "" {
		return errors.New("the data directory must not be empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("the data directory cannot be created: %w", err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("the data directory is not writable: %w", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func (c *Config) dbPath() string  { return filepath.Join(c.DataDir, "supportbot.db") }
func (c *Config) keyPath() string { return filepath.Join(c.DataDir, "token.key") }
func (c *Config) logPath() string { return filepath.Join(c.DataDir, "supportbot.log") }
