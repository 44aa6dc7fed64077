package slack

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
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

// onSocketEvent acks one Socket Mode envelope with its answer.
func (a *Adapter) onSocketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		a.log.Warn("slack socket mode", "type", string(evt.Type), "data", evt.Data)
		return
	}
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		return // hello, connecting, connected, disconnect
	}
	res := a.socketRequest(ctx, evt.Request)
	var err error
	if res.body != nil {
		err = client.Ack(*evt.Request, res.body)
	} else {
		err = client.Ack(*evt.Request)
	}
	if err != nil {
		a.log.Warn("socket mode ack", "err", err)
	}
	a.later(res.key, res.after)
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
		return slack.SlashCommand{}, err
	}
	str := func(k string) string {
		if s, ok := m[k].(string); ok {
			return s
		}
		return ""
	}
	return slack.SlashCommand{
		TeamID: str("team_id"), ChannelID: str("channel_id"), ChannelName: str("channel_name"),
		UserID: str("user_id"), UserName: str("user_name"), Command: str("command"), Text: str("text"),
		ResponseURL: str("response_url"), TriggerID: str("trigger_id"), APIAppID: str("api_app_id"),
	}, nil
}
