package slack

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"net/url"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// runSocket connects in Socket Mode and handles envelopes until ctx ends.
func (a *Adapter) runSocket(ctx context.Context) error {
	client := socketmode.New(a.api, socketmode.OptionLog(log.New(slogWriter{a.log}, "", 0)))
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(ctx) }()
	for {
		select {
		case err := <-errc:
			return err
		case evt, ok := <-client.Events:
			if !ok {
				return <-errc
			}
			a.onSocketEvent(ctx, client, evt)
		}
	}
}

// acker sends a Socket Mode ack (*socketmode.Client).
type acker interface {
	Ack(req socketmode.Request, payload ...any) error
}

// onSocketEvent acks one Socket Mode envelope with its answer.
func (a *Adapter) onSocketEvent(ctx context.Context, client acker, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not parse it (an envelope type it does not know,
		// or a payload it cannot decode): read it ourselves, so that it is
		// handled or at least acked, not redelivered forever.
		bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
		if bad == nil {
			a.log.Warn("slack socket mode", "type", string(evt.Type), "data", evt.Data)
			return
		}
		req, ok := rawEnvelope(bad.Message)
		if !ok {
			a.log.Warn("slack socket mode message unreadable; ignored", "err", bad.Cause)
			return
		}
		a.log.Debug("slack socket mode envelope slack-go could not parse", "type", req.Type, "envelope", req.EnvelopeID, "err", bad.Cause)
		a.onEnvelope(ctx, client, req)
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		a.log.Warn("slack socket mode", "type", string(evt.Type), "data", evt.Data)
		return
	}
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		return // hello, connecting, connected, disconnect
	}
	a.onEnvelope(ctx, client, evt.Request)
}

// onEnvelope handles one envelope and acks it: with the answer's payload
// (a slash command's ephemeral message), else empty. Unknown types are
// acked and ignored.
func (a *Adapter) onEnvelope(ctx context.Context, client acker, req *socketmode.Request) {
	res := a.socketRequest(ctx, req)
	var err error
	if res.body != nil {
		if err = client.Ack(*req, res.body); err != nil {
			// Too large, say: an empty ack at least stops redelivery.
			a.log.Warn("socket mode ack with payload failed; acking empty", "type", req.Type, "err", err)
			err = client.Ack(*req)
		}
	} else {
		err = client.Ack(*req)
	}
	if err != nil {
		a.log.Warn("socket mode ack", "err", err)
	}
	a.later(res.key, res.after)
}

// rawEnvelope reads the fields of a Socket Mode envelope the adapter
// needs, leniently; ok is false without an envelope_id.
func rawEnvelope(raw []byte) (*socketmode.Request, bool) {
	var env struct {
		Type       string          `json:"type"`
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || env.EnvelopeID == "" {
		return nil, false
	}
	return &socketmode.Request{Type: env.Type, EnvelopeID: env.EnvelopeID, Payload: env.Payload}, true
}

// socketRequest handles one Socket Mode request (events_api,
// interactive, slash_commands) and returns its answer; other types are
// ignored.
func (a *Adapter) socketRequest(ctx context.Context, req *socketmode.Request) response {
	if req.RetryAttempt > 0 {
		a.log.Debug("socket mode redelivery", "envelope", req.EnvelopeID, "attempt", req.RetryAttempt)
	}
	qctx, cancel := context.WithTimeout(ctx, quickTimeout+500*time.Millisecond)
	defer cancel()
	switch req.Type {
	case "events_api":
		var cb eventCallback
		if err := json.Unmarshal(req.Payload, &cb); err != nil {
			a.log.Warn("socket mode event unreadable", "err", err)
			return response{}
		}
		return a.safely(qctx, func(ctx context.Context) response {
			return a.onEvent(ctx, cb, firstNonEmpty(cb.EventID, req.EnvelopeID))
		})
	case "interactive":
		cb, err := decodeInteraction(req.Payload)
		if err != nil {
			a.log.Warn("socket mode interaction unreadable", "err", err)
			return response{}
		}
		return a.safely(qctx, func(ctx context.Context) response { return a.onInteraction(ctx, cb, req.EnvelopeID) })
	case "slash_commands":
		cmd, err := decodeCommand(req.Payload)
		if err != nil {
			a.log.Warn("socket mode command unreadable", "err", err)
			return response{}
		}
		return a.safely(qctx, func(ctx context.Context) response { return a.onCommand(ctx, cmd) })
	}
	return response{}
}

// slogWriter adapts slack-go's logger to slog at debug level.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Debug("slack-go", "msg", string(p))
	return len(p), nil
}

// decodeCommand reads a Socket Mode slash command, whose fields may come
// as strings or as JSON values (is_enterprise_install).
func decodeCommand(raw []byte) (slack.SlashCommand, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		// Some senders put the form body itself in the payload, as a string.
		var form string
		if json.Unmarshal(raw, &form) != nil {
			return slack.SlashCommand{}, err
		}
		v, ferr := url.ParseQuery(form)
		if ferr != nil {
			return slack.SlashCommand{}, err
		}
		m = map[string]any{}
		for k := range v {
			m[k] = v.Get(k)
		}
	}
	str := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return v
		case []any: // a form field sent as a list of values
			if len(v) > 0 {
				if s, ok := v[0].(string); ok {
					return s
				}
			}
		}
		return ""
	}
	return slack.SlashCommand{
		TeamID: str("team_id"), ChannelID: str("channel_id"), ChannelName: str("channel_name"),
		UserID: str("user_id"), UserName: str("user_name"), Command: str("command"), Text: str("text"),
		ResponseURL: str("response_url"), TriggerID: str("trigger_id"), APIAppID: str("api_app_id"),
	}, nil
}
