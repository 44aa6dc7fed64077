package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"supportbot/bot/telegram"
	"supportbot/portal/demo"
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
	LogFormat     string

	TelegramToken         string
	TelegramAPIURL        string
	TelegramWebhookListen string
	TelegramWebhookSecret string
	TelegramWebhookURL    string
	// TelegramWebhookPath is the only path the webhook is served on;
	// empty means the path of TelegramWebhookURL, or "/".
	TelegramWebhookPath string

	// MetricsListen is the host:port serving /healthz, /readyz and
	// /metrics; empty serves none.
	MetricsListen string

	// KeyFile, TelegramTokenFile and TelegramWebhookSecretFile name files
	// holding the secret of Key, TelegramToken and TelegramWebhookSecret
	// (ParseFlags reads them into those fields), so no secret is on the
	// command line.
	KeyFile                   string
	TelegramTokenFile         string
	TelegramWebhookSecretFile string

	// ShutdownTimeout bounds the delivery of pending replies at shutdown,
	// once the updates in flight are done.
	ShutdownTimeout time.Duration

	// TelegramGlobalRate and TelegramChatRate limit the messages sent to
	// Telegram a second, over all chats (with a burst of as many) and per
	// chat (with a burst of 3); 0 means no limit.
	TelegramGlobalRate float64
	TelegramChatRate   float64

	// The staff side on Slack: enabled by SlackBotToken; Socket Mode with
	// SlackAppToken, else HTTP on SlackListen with SlackSigningSecret.
	SlackBotToken      string
	SlackAppToken      string
	SlackSigningSecret string
	SlackListen        string
	SlackAPIURL        string
	// SlackChannels maps departments to channels:
	// "billing=C0BILLING,technical=C0TECH".
	SlackChannels string
	// SlackStaff lists the Slack user IDs allowed to act on tickets.
	SlackStaff string
	// SlackReplyPrefix starts a thread message meant for the customer.
	SlackReplyPrefix string
	// PortalStaffKey authorises the staff side's portal calls.
	PortalStaffKey string

	SlackBotTokenFile      string
	SlackAppTokenFile      string
	SlackSigningSecretFile string
	PortalStaffKeyFile     string

	// Store selects where sessions, handled update ids and the outbox
	// live: "bbolt" (a file in DataDir, one process) or "etcd" (a cluster
	// shared by replicas, one of them active at a time).
	Store string
	// EtcdEndpoints lists the etcd members, comma-separated: host:port or
	// URLs.
	EtcdEndpoints string
	// EtcdPrefix starts every key supportbot writes in etcd.
	EtcdPrefix string
	// EtcdCA, EtcdCert and EtcdKey name PEM files: the CA to trust and the
	// client certificate and its key (given together).
	EtcdCA, EtcdCert, EtcdKey string
	// EtcdUsername and EtcdPassword authenticate to etcd.
	EtcdUsername     string
	EtcdPassword     string
	EtcdPasswordFile string

	// fromEnv names, per flag, the environment variable its value came
	// from (set by ParseFlags), so errors name what the operator set.
	fromEnv map[string]string
	// fromFile names, per secret flag, the setting of the file its value
	// was read from: --key-file or SUPPORTBOT_KEY_FILE.
	fromFile map[string]string
	// argvSecrets lists the secret flags given a value on the command line,
	// where ps shows it; Open warns about them.
	argvSecrets []string
}

// flagEnv maps each flag with an environment fallback to its variable.
var flagEnv = map[string]string{
	"data-dir":                "SUPPORTBOT_DATA_DIR",
	"lang":                    "SUPPORTBOT_LANG",
	"portal-url":              "PORTAL_URL",
	"key":                     "SUPPORTBOT_KEY",
	"log-level":               "SUPPORTBOT_LOG_LEVEL",
	"log-format":              "SUPPORTBOT_LOG_FORMAT",
	"telegram-token":          "TELEGRAM_BOT_TOKEN",
	"telegram-api-url":        "TELEGRAM_API_URL",
	"telegram-webhook-listen": "TELEGRAM_WEBHOOK_LISTEN",
	"telegram-webhook-secret": "TELEGRAM_WEBHOOK_SECRET",
	"telegram-webhook-url":    "TELEGRAM_WEBHOOK_URL",
	"telegram-webhook-path":   "TELEGRAM_WEBHOOK_PATH",
	"shutdown-timeout":        "SUPPORTBOT_SHUTDOWN_TIMEOUT",
	"metrics-listen":          "SUPPORTBOT_METRICS_LISTEN",
	"telegram-global-rate":    "TELEGRAM_GLOBAL_RATE",
	"telegram-chat-rate":      "TELEGRAM_CHAT_RATE",

	"slack-bot-token":      "SLACK_BOT_TOKEN",
	"slack-app-token":      "SLACK_APP_TOKEN",
	"slack-signing-secret": "SLACK_SIGNING_SECRET",
	"slack-listen":         "SLACK_LISTEN",
	"slack-api-url":        "SLACK_API_URL",
	"slack-channels":       "SLACK_CHANNELS",
	"slack-staff":          "SLACK_STAFF",
	"slack-reply-prefix":   "SLACK_REPLY_PREFIX",
	"portal-staff-key":     "PORTAL_STAFF_KEY",

	"key-file":                     "SUPPORTBOT_KEY_FILE",
	"slack-bot-token-file":         "SLACK_BOT_TOKEN_FILE",
	"slack-app-token-file":         "SLACK_APP_TOKEN_FILE",
	"slack-signing-secret-file":    "SLACK_SIGNING_SECRET_FILE",
	"portal-staff-key-file":        "PORTAL_STAFF_KEY_FILE",
	"telegram-token-file":          "TELEGRAM_BOT_TOKEN_FILE",
	"telegram-webhook-secret-file": "TELEGRAM_WEBHOOK_SECRET_FILE",

	"store":              "SUPPORTBOT_STORE",
	"etcd-endpoints":     "SUPPORTBOT_ETCD_ENDPOINTS",
	"etcd-prefix":        "SUPPORTBOT_ETCD_PREFIX",
	"etcd-ca":            "SUPPORTBOT_ETCD_CA",
	"etcd-cert":          "SUPPORTBOT_ETCD_CERT",
	"etcd-key":           "SUPPORTBOT_ETCD_KEY",
	"etcd-username":      "SUPPORTBOT_ETCD_USERNAME",
	"etcd-password":      "SUPPORTBOT_ETCD_PASSWORD",
	"etcd-password-file": "SUPPORTBOT_ETCD_PASSWORD_FILE",
}

// secretFlags are the settings whose value is a secret: each can also be
// read from a file, named by the flag with "-file" appended or by the
// variable with "_FILE" appended.
var secretFlags = []string{"key", "telegram-token", "telegram-webhook-secret", "slack-bot-token", "slack-app-token", "slack-signing-secret", "portal-staff-key", "etcd-password"}

// secret returns the fields of a secret flag: its value and its file.
func (c *Config) secret(flag string) (value, file *string) {
	switch flag {
	case "key":
		return &c.Key, &c.KeyFile
	case "telegram-token":
		return &c.TelegramToken, &c.TelegramTokenFile
	case "telegram-webhook-secret":
		return &c.TelegramWebhookSecret, &c.TelegramWebhookSecretFile
	case "slack-bot-token":
		return &c.SlackBotToken, &c.SlackBotTokenFile
	case "slack-app-token":
		return &c.SlackAppToken, &c.SlackAppTokenFile
	case "slack-signing-secret":
		return &c.SlackSigningSecret, &c.SlackSigningSecretFile
	case "portal-staff-key":
		return &c.PortalStaffKey, &c.PortalStaffKeyFile
	case "etcd-password":
		return &c.EtcdPassword, &c.EtcdPasswordFile
	}
	panic("not a secret flag: " + flag)
}

// DefaultConfig returns the configuration of a plain run.
func DefaultConfig() Config {
	return Config{
		DataDir:         "supportbot-data",
		Lang:            "en",
		IdleTimeout:     30 * time.Minute,
		ShutdownTimeout: 10 * time.Second,
		LogLevel:        "warn",
		LogFormat:       "text",

		TelegramGlobalRate: 30,
		TelegramChatRate:   1,

		SlackReplyPrefix: ">>",
		PortalStaffKey:   demo.DefaultStaffKey,

		Store:      storeBbolt,
		EtcdPrefix: "supportbot/",
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
		if slices.Contains(secretFlags, name) {
			fs.Lookup(name).DefValue = "" // -h must not print a secret from the environment
		}
	}
	str(&c.DataDir, "data-dir", "directory for the session database, the key file and the terminal chat's log")
	str(&c.Lang, "lang", "default language: en or he")
	str(&c.PortalURL, "portal-url", "company backend base URL; empty runs the embedded demo portal")
	fs.IntVar(&c.DemoCustomers, "demo-customers", c.DemoCustomers, "generate this many extra demo customers (see README)")
	str(&c.Key, "key", "64 hex chars: key encrypting portal tokens at rest; empty uses <data-dir>/token.key, created on first run")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "end a conversation step left idle this long")
	str(&c.LogLevel, "log-level", "debug, info, warn or error")
	str(&c.LogFormat, "log-format", "text (key=value lines) or json (one object a line)")
	str(&c.TelegramToken, "telegram-token", "Telegram bot token; empty runs the terminal chat")
	str(&c.TelegramAPIURL, "telegram-api-url", "Bot API server URL")
	str(&c.TelegramWebhookListen, "telegram-webhook-listen", "host:port to serve the webhook on; empty uses long polling")
	str(&c.TelegramWebhookSecret, "telegram-webhook-secret", "webhook secret token, required with a webhook")
	str(&c.TelegramWebhookURL, "telegram-webhook-url", "public webhook URL to register with setWebhook")
	str(&c.TelegramWebhookPath, "telegram-webhook-path", "the only path the webhook is served on; empty: the path of --telegram-webhook-url, or /")
	str(&c.MetricsListen, "metrics-listen", "host:port to serve /healthz, /readyz and /metrics (Prometheus) on; empty serves none")
	str(&c.KeyFile, "key-file", "file holding the --key value, instead of the command line")
	str(&c.TelegramTokenFile, "telegram-token-file", "file holding the Telegram bot token, instead of the command line")
	str(&c.TelegramWebhookSecretFile, "telegram-webhook-secret-file", "file holding the webhook secret token, instead of the command line")
	str(&c.SlackBotToken, "slack-bot-token", "Slack bot token (xoxb-…): enables the staff side on Slack")
	str(&c.SlackAppToken, "slack-app-token", "Slack app-level token (xapp-…): Socket Mode, no public URL needed")
	str(&c.SlackSigningSecret, "slack-signing-secret", "Slack signing secret: HTTP mode (with --slack-listen), verifies every request")
	str(&c.SlackListen, "slack-listen", "host:port serving POST /slack/events, /slack/interactivity and /slack/commands (HTTP mode)")
	str(&c.SlackAPIURL, "slack-api-url", "Slack Web API base URL, for another server (default Slack's)")
	str(&c.SlackChannels, "slack-channels", "department=channel ID pairs, e.g. billing=C0BILLING,technical=C0TECH")
	str(&c.SlackStaff, "slack-staff", "comma-separated Slack user IDs allowed to act on tickets")
	str(&c.SlackReplyPrefix, "slack-reply-prefix", "a thread message starting with this goes to the customer")
	str(&c.PortalStaffKey, "portal-staff-key", "key for the portal's staff API (the staff side); the demo portal's by default")
	str(&c.SlackBotTokenFile, "slack-bot-token-file", "file holding the Slack bot token")
	str(&c.SlackAppTokenFile, "slack-app-token-file", "file holding the Slack app-level token")
	str(&c.SlackSigningSecretFile, "slack-signing-secret-file", "file holding the Slack signing secret")
	str(&c.PortalStaffKeyFile, "portal-staff-key-file", "file holding the portal staff key")
	str(&c.Store, "store", "where sessions live: bbolt (a file in --data-dir) or etcd (shared by replicas, one active at a time)")
	str(&c.EtcdEndpoints, "etcd-endpoints", "comma-separated etcd members (host:port or URLs), with --store=etcd")
	str(&c.EtcdPrefix, "etcd-prefix", "prefix of every key supportbot writes in etcd")
	str(&c.EtcdCA, "etcd-ca", "PEM file of the CA that signed the etcd members' certificates")
	str(&c.EtcdCert, "etcd-cert", "PEM file of the client certificate for etcd (with --etcd-key)")
	str(&c.EtcdKey, "etcd-key", "PEM file of the client certificate's key (with --etcd-cert)")
	str(&c.EtcdUsername, "etcd-username", "etcd user name (with --etcd-password)")
	str(&c.EtcdPassword, "etcd-password", "etcd password")
	str(&c.EtcdPasswordFile, "etcd-password-file", "file holding the etcd password")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "at shutdown, once the updates in flight are done, how long to keep sending pending replies (env SUPPORTBOT_SHUTDOWN_TIMEOUT)")
	fs.Float64Var(&c.TelegramGlobalRate, "telegram-global-rate", c.TelegramGlobalRate, "messages a second sent to Telegram over all chats, with a burst of as many; 0: no limit (env TELEGRAM_GLOBAL_RATE)")
	fs.Float64Var(&c.TelegramChatRate, "telegram-chat-rate", c.TelegramChatRate, "messages a second sent to one Telegram chat, with a burst of 3; 0: no limit (env TELEGRAM_CHAT_RATE)")
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
	c.fromFile, c.argvSecrets = map[string]string{}, nil
	var errs []error
	if ev := flagEnv["shutdown-timeout"]; !set["shutdown-timeout"] && os.Getenv(ev) != "" {
		d, err := time.ParseDuration(os.Getenv(ev))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: want a duration such as 10s", c.setting("shutdown-timeout", os.Getenv(ev))))
		}
		c.ShutdownTimeout = d
	}
	for _, r := range []struct {
		flag string
		p    *float64
	}{{"telegram-global-rate", &c.TelegramGlobalRate}, {"telegram-chat-rate", &c.TelegramChatRate}} {
		if ev := flagEnv[r.flag]; !set[r.flag] && os.Getenv(ev) != "" {
			v, err := strconv.ParseFloat(os.Getenv(ev), 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: want a number of messages a second, such as 30 (0: no limit)", c.setting(r.flag, os.Getenv(ev))))
			}
			*r.p = v
		}
	}
	for _, name := range secretFlags {
		if err := c.readSecret(name, set); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return c.Validate()
}

// readSecret settles where the secret flag name comes from and reads its
// file, if that is where. The command line wins over the environment, as
// for every setting; a value and a file given in the same place are an
// error. A value given on the command line is noted in argvSecrets.
func (c *Config) readSecret(name string, set map[string]bool) error {
	value, file := c.secret(name)
	fileName := name + "-file"
	switch cliValue, cliFile := set[name] && *value != "", set[fileName] && *file != ""; {
	case cliValue && cliFile:
		return fmt.Errorf("--%s and --%s: give the secret or its file, not both", name, fileName)
	case cliValue:
		*file = ""
		c.argvSecrets = append(c.argvSecrets, name)
		return nil
	case cliFile:
	case c.fromEnv[name] != "" && c.fromEnv[fileName] != "":
		return fmt.Errorf("%s and %s: give the secret or its file, not both", c.fromEnv[name], c.fromEnv[fileName])
	}
	if *file == "" {
		return nil
	}
	s, err := readSecretFile(*file)
	if err != nil {
		return fmt.Errorf("%s: %w", c.setting(fileName, *file), err)
	}
	*value = s
	c.fromFile[name] = c.name(fileName)
	return nil
}

// maxSecretFile bounds a secret file: a key or a token is far shorter.
const maxSecretFile = 64 << 10

// readSecretFile returns the content of the file at path, its trailing
// newline trimmed. An empty file is an error. Errors never hold the
// content.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the file: %v", unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot read the file: %v", unwrapPath(err))
	case len(data) > maxSecretFile:
		return "", fmt.Errorf("the file is over %d KiB: not a secret", maxSecretFile>>10)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		return "", errors.New("the file is empty")
	}
	return s, nil
}

// unwrapPath drops the path from a file error: the caller names it.
func unwrapPath(err error) error {
	if pe := (*os.PathError)(nil); errors.As(err, &pe) {
		return pe.Err
	}
	return err
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
// its value came from the environment; a secret read from a file is named
// by the file's setting (--key-file or SUPPORTBOT_KEY_FILE).
func (c *Config) name(flag string) string {
	if f, ok := c.fromFile[flag]; ok {
		return f
	}
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
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s: must be positive", c.setting("shutdown-timeout", c.ShutdownTimeout)))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s: must be positive", c.setting("idle-timeout", c.IdleTimeout)))
	}
	for _, r := range []struct {
		flag string
		v    float64
	}{{"telegram-global-rate", c.TelegramGlobalRate}, {"telegram-chat-rate", c.TelegramChatRate}} {
		if r.v < 0 || math.IsNaN(r.v) || math.IsInf(r.v, 0) {
			errs = append(errs, fmt.Errorf("%s: want messages a second, 0 or more (0: no limit)", c.setting(r.flag, r.v)))
		}
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("%s: want text or json", c.setting("log-format", c.LogFormat)))
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
		errs = append(errs, fmt.Errorf("%s needs --telegram-webhook-secret or --telegram-webhook-secret-file (TELEGRAM_WEBHOOK_SECRET or TELEGRAM_WEBHOOK_SECRET_FILE)", c.name("telegram-webhook-listen")))
	}
	// Webhook settings without a listen address would neither poll nor
	// serve: a silent outage.
	switch {
	case c.TelegramWebhookListen != "":
	case c.TelegramWebhookURL != "":
		errs = append(errs, fmt.Errorf("%s without --telegram-webhook-listen (TELEGRAM_WEBHOOK_LISTEN): nothing would serve the webhook registered with Telegram; set the host:port to serve it on", c.name("telegram-webhook-url")))
	case c.TelegramWebhookSecret != "":
		errs = append(errs, fmt.Errorf("%s without --telegram-webhook-listen (TELEGRAM_WEBHOOK_LISTEN): the bot would neither poll for updates nor serve a webhook; set the host:port to serve the webhook on, or unset the secret to use long polling", c.name("telegram-webhook-secret")))
	}
	if c.TelegramWebhookURL != "" {
		if err := telegram.CheckWebhookURL(c.TelegramAPIURL, c.TelegramWebhookURL); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.setting("telegram-webhook-url", c.TelegramWebhookURL), err))
		}
	}
	if p := c.TelegramWebhookPath; p != "" && !strings.HasPrefix(p, "/") {
		errs = append(errs, fmt.Errorf("%s: want a path starting with /, such as /telegram/hook", c.setting("telegram-webhook-path", p)))
	}
	if c.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(c.MetricsListen); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("%s: want host:port, such as 127.0.0.1:9090 or :9090", c.setting("metrics-listen", c.MetricsListen)))
		}
	}
	errs = append(errs, c.validateSlack()...)
	errs = append(errs, c.validateStore()...)
	if err := writableDir(c.DataDir); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", c.setting("data-dir", c.DataDir), err))
	}
	return errors.Join(errs...)
}

// validateSlack checks the staff side's settings: a mode, channels and
// staff when it is enabled, and no Slack setting without the bot token.
func (c *Config) validateSlack() []error {
	var errs []error
	if c.SlackBotToken == "" {
		for _, f := range []string{"slack-app-token", "slack-signing-secret", "slack-listen", "slack-channels", "slack-staff"} {
			if v, _ := c.slackSetting(f); v != "" {
				errs = append(errs, fmt.Errorf("%s without --slack-bot-token (SLACK_BOT_TOKEN): the staff side is off, so it would do nothing; set the bot token or unset it", c.name(f)))
			}
		}
		return errs
	}
	if !strings.HasPrefix(c.SlackBotToken, "xoxb-") {
		errs = append(errs, fmt.Errorf("%s: want a bot token starting xoxb-", c.name("slack-bot-token")))
	}
	switch {
	case c.SlackAppToken != "":
		if !strings.HasPrefix(c.SlackAppToken, "xapp-") {
			errs = append(errs, fmt.Errorf("%s: want an app-level token starting xapp-", c.name("slack-app-token")))
		}
	case c.SlackSigningSecret != "" && c.SlackListen != "":
	default:
		errs = append(errs, errors.New("SLACK_BOT_TOKEN needs a way to hear Slack: SLACK_APP_TOKEN (Socket Mode), or SLACK_SIGNING_SECRET and SLACK_LISTEN (HTTP)"))
	}
	if c.SlackListen != "" {
		if _, port, err := net.SplitHostPort(c.SlackListen); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("%s: want host:port, such as :3000", c.setting("slack-listen", c.SlackListen)))
		}
	}
	if c.SlackAPIURL != "" {
		if p, err := url.Parse(c.SlackAPIURL); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s: want an http:// or https:// URL", c.setting("slack-api-url", c.SlackAPIURL)))
		}
	}
	if _, err := c.slackChannels(); err != nil {
		errs = append(errs, err)
	}
	if len(c.slackStaff()) == 0 {
		errs = append(errs, fmt.Errorf("%s: list the Slack user IDs allowed to act on tickets (U012AB3CD,U045EF6GH); nobody could answer a customer", c.setting("slack-staff", c.SlackStaff)))
	}
	if strings.TrimSpace(c.SlackReplyPrefix) == "" {
		errs = append(errs, fmt.Errorf("%s: must not be empty, or every thread message would reach the customer", c.setting("slack-reply-prefix", c.SlackReplyPrefix)))
	}
	return errs
}

// The stores --store selects.
const (
	storeBbolt = "bbolt"
	storeEtcd  = "etcd"
)

// etcdSettings returns the etcd settings the operator changed, by flag
// name, in the order of the usage.
func (c *Config) etcdSettings() []string {
	var set []string
	for _, s := range []struct {
		flag string
		set  bool
	}{
		{"etcd-endpoints", c.EtcdEndpoints != ""}, {"etcd-prefix", c.EtcdPrefix != DefaultConfig().EtcdPrefix},
		{"etcd-ca", c.EtcdCA != ""}, {"etcd-cert", c.EtcdCert != ""}, {"etcd-key", c.EtcdKey != ""},
		{"etcd-username", c.EtcdUsername != ""}, {"etcd-password", c.EtcdPassword != ""},
	} {
		if s.set {
			set = append(set, s.flag)
		}
	}
	return set
}

// validateStore checks --store and the etcd settings: endpoints with etcd,
// a certificate with its key, a user with a password, and no etcd setting
// with bbolt, where it would do nothing. Errors never hold the password.
func (c *Config) validateStore() []error {
	var errs []error
	switch c.Store {
	case storeBbolt:
		for _, f := range c.etcdSettings() {
			errs = append(errs, fmt.Errorf("%s: only the etcd store uses it and the store is bbolt, so it would do nothing; set --store=etcd (SUPPORTBOT_STORE=etcd) or unset it", c.name(f)))
		}
		return errs
	case storeEtcd:
	default:
		return []error{fmt.Errorf("%s: want bbolt or etcd", c.setting("store", c.Store))}
	}
	if _, err := c.etcdEndpoints(); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(c.EtcdPrefix) == "" {
		errs = append(errs, fmt.Errorf("%s: must not be empty, or supportbot's keys would mix with the cluster's others; the default is supportbot/", c.setting("etcd-prefix", c.EtcdPrefix)))
	}
	if (c.EtcdCert == "") != (c.EtcdKey == "") {
		errs = append(errs, fmt.Errorf("%s and %s: give the client certificate and its key together", c.name("etcd-cert"), c.name("etcd-key")))
	}
	for _, f := range []struct{ flag, path string }{{"etcd-ca", c.EtcdCA}, {"etcd-cert", c.EtcdCert}, {"etcd-key", c.EtcdKey}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: cannot read the file: %v", c.setting(f.flag, f.path), unwrapPath(err)))
		}
	}
	if (c.EtcdUsername == "") != (c.EtcdPassword == "") {
		errs = append(errs, fmt.Errorf("%s and %s: give the etcd user name and its password together", c.name("etcd-username"), c.name("etcd-password")))
	}
	return errs
}

// etcdEndpoints parses EtcdEndpoints: host:port or http(s):// URLs.
func (c *Config) etcdEndpoints() ([]string, error) {
	var out []string
	for _, e := range strings.Split(c.EtcdEndpoints, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		ok := false
		if strings.Contains(e, "://") {
			p, err := url.Parse(e)
			ok = err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" && p.Port() != ""
		} else {
			host, port, err := net.SplitHostPort(e)
			ok = err == nil && host != "" && port != ""
		}
		if !ok {
			return nil, fmt.Errorf("%s: %q is not host:port or an http(s):// URL with a port, such as 10.0.0.1:2379 or https://etcd-1:2379", c.setting("etcd-endpoints", c.EtcdEndpoints), e)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s needs the etcd members: set --etcd-endpoints (SUPPORTBOT_ETCD_ENDPOINTS) to their host:port, comma-separated, such as etcd-1:2379,etcd-2:2379,etcd-3:2379", c.setting("store", c.Store))
	}
	return out, nil
}

// slackSetting returns a Slack setting's value by flag name.
func (c *Config) slackSetting(flag string) (string, bool) {
	switch flag {
	case "slack-app-token":
		return c.SlackAppToken, true
	case "slack-signing-secret":
		return c.SlackSigningSecret, true
	case "slack-listen":
		return c.SlackListen, true
	case "slack-channels":
		return c.SlackChannels, true
	case "slack-staff":
		return c.SlackStaff, true
	}
	return "", false
}

// slackChannels parses SlackChannels: department=channel pairs.
func (c *Config) slackChannels() (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(c.SlackChannels, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		dept, ch, ok := strings.Cut(pair, "=")
		dept, ch = strings.TrimSpace(dept), strings.TrimSpace(ch)
		if !ok || dept == "" || ch == "" {
			return nil, fmt.Errorf("%s: want department=channel ID pairs, such as billing=C0BILLING,technical=C0TECH", c.setting("slack-channels", c.SlackChannels))
		}
		out[dept] = ch
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: map at least one department to a channel, such as billing=C0BILLING", c.setting("slack-channels", c.SlackChannels))
	}
	return out, nil
}

// slackStaff parses SlackStaff.
func (c *Config) slackStaff() []string {
	var ids []string
	for _, id := range strings.Split(c.SlackStaff, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
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
