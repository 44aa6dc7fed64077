package slackfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// Option adjusts one delivery to the app: [Server.Send], [Server.PostEvent],
// [Server.PostInteraction] or [Server.PostCommand]. Each option says where
// it applies; elsewhere it is ignored.
type Option func(*options)

type options struct {
	eventID      string
	envelopeID   string
	retryNum     int
	retryReason  string
	stale        bool
	badSignature bool
	accepts      *bool
}

func delivery(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithEventID sets the event_id of an event callback ([Server.PostEvent],
// [Server.EventCallback]); by default each gets a new one.
func WithEventID(id string) Option { return func(o *options) { o.eventID = id } }

// WithRetry marks a delivery as Slack's retry number n for reason (for HTTP
// Slack uses "http_timeout", "http_error", "connection_failed" or
// "too_many_requests"). Over HTTP it sets the X-Slack-Retry-Num and
// X-Slack-Retry-Reason headers; in [Server.Send] the envelope's
// retry_attempt and retry_reason.
func WithRetry(n int, reason string) Option {
	return func(o *options) { o.retryNum, o.retryReason = n, reason }
}

// WithStaleTimestamp signs an HTTP delivery with a timestamp ten minutes
// old, outside the five-minute window Slack tells apps to accept.
func WithStaleTimestamp() Option { return func(o *options) { o.stale = true } }

// WithBadSignature sends an HTTP delivery with a well-formed signature made
// with the wrong secret.
func WithBadSignature() Option { return func(o *options) { o.badSignature = true } }

// WithEnvelopeID sets the envelope_id of a [Server.Send]; by default each
// envelope gets a new UUID.
func WithEnvelopeID(id string) Option { return func(o *options) { o.envelopeID = id } }

// WithAcceptsResponsePayload overrides the accepts_response_payload field of
// a [Server.Send].
func WithAcceptsResponsePayload(accepts bool) Option {
	return func(o *options) { o.accepts = &accepts }
}

// Sign returns Slack's X-Slack-Signature for body sent at timestamp (Unix
// seconds): "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// EventCallback wraps event in the Events API outer envelope
// ({"type":"event_callback", "event_id", "event_time", "authorizations", …}),
// the payload of an HTTP event delivery and of a Socket Mode "events_api"
// envelope. [WithEventID] sets event_id.
func (s *Server) EventCallback(event any, opts ...Option) map[string]any {
	o := delivery(opts)
	id := o.eventID
	if id == "" {
		id = s.newID("Ev")
	}
	return map[string]any{
		"token":      VerificationToken,
		"team_id":    TeamID,
		"api_app_id": AppID,
		"event":      event,
		"type":       "event_callback",
		"event_id":   id,
		"event_time": time.Now().Unix(),
		"authorizations": []map[string]any{{
			"enterprise_id":         nil,
			"team_id":               TeamID,
			"user_id":               BotUserID,
			"is_bot":                true,
			"is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
	}
}

// PostEvent delivers event to the app's Events API endpoint as Slack
// does: a signed JSON event_callback. It returns the app's status and body.
// Options: [WithEventID], [WithRetry], [WithStaleTimestamp],
// [WithBadSignature].
func (s *Server) PostEvent(t testing.TB, endpoint, secret string, event any, opts ...Option) (int, []byte) {
	t.Helper()
	body, err := json.Marshal(s.EventCallback(event, opts...))
	if err != nil {
		t.Fatalf("slackfake: marshal event: %v", err)
	}
	return s.post(t, endpoint, secret, "application/json", body, delivery(opts))
}

// PostInteraction delivers an interaction payload (see [Server.BlockAction],
// [Server.ViewSubmission]) to the app's interactivity endpoint as
// Slack does: a signed form body payload=<json>. Options: [WithRetry],
// [WithStaleTimestamp], [WithBadSignature].
func (s *Server) PostInteraction(t testing.TB, endpoint, secret string, payload any, opts ...Option) (int, []byte) {
	t.Helper()
	p, err := json.Marshal(payload)
	if err != nil {
		t.Fatalf("slackfake: marshal payload: %v", err)
	}
	body := []byte(url.Values{"payload": {string(p)}}.Encode())
	return s.post(t, endpoint, secret, "application/x-www-form-urlencoded", body, delivery(opts))
}

// PostCommand delivers a slash command (see [Server.SlashCommand]) to the
// app's endpoint as Slack does: a signed form body. Options:
// [WithRetry], [WithStaleTimestamp], [WithBadSignature].
func (s *Server) PostCommand(t testing.TB, endpoint, secret string, form url.Values, opts ...Option) (int, []byte) {
	t.Helper()
	return s.post(t, endpoint, secret, "application/x-www-form-urlencoded", []byte(form.Encode()), delivery(opts))
}

func (s *Server) post(t testing.TB, target, secret, contentType string, body []byte, o options) (int, []byte) {
	t.Helper()
	at := time.Now()
	if o.stale {
		at = at.Add(-10 * time.Minute)
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	key := secret
	if o.badSignature {
		key = secret + "-not-the-secret"
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("slackfake: build request: %v", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", Sign(key, ts, body))
	if o.retryNum > 0 || o.retryReason != "" {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(o.retryNum))
		req.Header.Set("X-Slack-Retry-Reason", o.retryReason)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("slackfake: post to %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("slackfake: read answer from %s: %v", target, err)
	}
	return resp.StatusCode, b
}
