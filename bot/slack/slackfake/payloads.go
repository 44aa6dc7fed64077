package slackfake

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Payload builders produce the JSON Slack documents for interactions,
// commands and message events. Their response_url values point at this
// fake, which records what the app posts there ([Server.Responses]).

func (s *Server) triggerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%d.%d.%s", 1_700_000_000_000+s.seq, 1, randomHex(16))
}

func (s *Server) responseURL(kind string) string {
	id := s.newID("")
	return s.srv.URL + "/" + kind + "/" + TeamID + "/" + id + "/" + randomHex(12)
}

func payloadUser(userID, userName string) map[string]any {
	return map[string]any{"id": userID, "username": userName, "name": userName, "team_id": TeamID}
}

func payloadTeam() map[string]any {
	return map[string]any{"id": TeamID, "domain": TeamDomain}
}

// findButton looks through a message's blocks for the element with
// actionID and returns its block_id and text object.
func findButton(blocks json.RawMessage, actionID string) (blockID string, text any) {
	var bs []struct {
		BlockID   string            `json:"block_id"`
		Elements  []json.RawMessage `json:"elements"`
		Accessory json.RawMessage   `json:"accessory"`
	}
	if json.Unmarshal(blocks, &bs) != nil {
		return "", nil
	}
	for _, b := range bs {
		for _, raw := range append(b.Elements, b.Accessory) {
			var e struct {
				ActionID string `json:"action_id"`
				Text     any    `json:"text"`
			}
			if json.Unmarshal(raw, &e) == nil && e.ActionID == actionID {
				return b.BlockID, e.Text
			}
		}
	}
	return "", nil
}

// BlockAction builds a block_actions payload for a click on the button
// actionID (with value) in the message messageTS of channelID, by the user
// userID. If the fake holds that message, its thread_ts, text and blocks go
// into "message" and the button's block_id and text are taken from its
// blocks. An empty triggerID gets a new one. Deliver it with
// [Server.PostInteraction] or [Server.Send] (type "interactive").
func (s *Server) BlockAction(userID, userName, actionID, value, channelID, messageTS, triggerID string) map[string]any {
	if triggerID == "" {
		triggerID = s.triggerID()
	}
	message := map[string]any{"type": "message", "ts": messageTS, "text": ""}
	blockID, text := "", any(nil)
	s.mu.Lock()
	if m := s.find(channelID, messageTS); m != nil {
		message = s.messageJSON(m, false)
		blockID, text = findButton(m.Blocks, actionID)
	}
	s.mu.Unlock()
	if blockID == "" {
		blockID = "actions"
	}
	if text == nil {
		text = map[string]any{"type": "plain_text", "text": value, "emoji": true}
	}
	return map[string]any{
		"type":       "block_actions",
		"user":       payloadUser(userID, userName),
		"api_app_id": AppID,
		"token":      VerificationToken,
		"container": map[string]any{
			"type":         "message",
			"message_ts":   messageTS,
			"channel_id":   channelID,
			"is_ephemeral": false,
		},
		"trigger_id":            triggerID,
		"team":                  payloadTeam(),
		"enterprise":            nil,
		"is_enterprise_install": false,
		"channel":               map[string]any{"id": channelID, "name": ""},
		"message":               message,
		"state":                 map[string]any{"values": map[string]any{}},
		"response_url":          s.responseURL("actions"),
		"actions": []map[string]any{{
			"action_id": actionID,
			"block_id":  blockID,
			"text":      text,
			"value":     value,
			"type":      "button",
			"action_ts": s.newTS(),
		}},
	}
}

// ViewSubmission builds a view_submission payload for the modal callbackID
// submitted by userID, with values as the state of plain_text_input
// elements (block_id → action_id → value). If the fake opened a view with
// that callback_id, the latest one's id and blocks are used.
func (s *Server) ViewSubmission(userID, userName, callbackID, privateMetadata string, values map[string]map[string]string) map[string]any {
	state := map[string]any{}
	var blocks []any
	blockIDs := make([]string, 0, len(values))
	for b := range values {
		blockIDs = append(blockIDs, b)
	}
	sort.Strings(blockIDs)
	for _, b := range blockIDs {
		actions := map[string]any{}
		actionIDs := make([]string, 0, len(values[b]))
		for a := range values[b] {
			actionIDs = append(actionIDs, a)
		}
		sort.Strings(actionIDs)
		for _, a := range actionIDs {
			actions[a] = map[string]any{"type": "plain_text_input", "value": values[b][a]}
			blocks = append(blocks, map[string]any{
				"type":     "input",
				"block_id": b,
				"label":    map[string]any{"type": "plain_text", "text": b, "emoji": true},
				"optional": false,
				"element":  map[string]any{"type": "plain_text_input", "action_id": a},
			})
		}
		state[b] = actions
	}

	viewID := ""
	var title any = map[string]any{"type": "plain_text", "text": "Form", "emoji": true}
	s.mu.Lock()
	for _, v := range s.views {
		var sent map[string]any
		if json.Unmarshal(v.View, &sent) == nil && sent["callback_id"] == callbackID {
			viewID = v.ID
			if b, ok := sent["blocks"].([]any); ok {
				blocks = b
			}
			if t, ok := sent["title"]; ok {
				title = t
			}
		}
	}
	if viewID == "" {
		viewID = s.nextID("V")
	}
	hash := s.nextTS() + "." + randomHex(4)
	s.mu.Unlock()
	if blocks == nil {
		blocks = []any{}
	}

	return map[string]any{
		"type":                  "view_submission",
		"team":                  payloadTeam(),
		"user":                  payloadUser(userID, userName),
		"api_app_id":            AppID,
		"token":                 VerificationToken,
		"trigger_id":            s.triggerID(),
		"enterprise":            nil,
		"is_enterprise_install": false,
		"view": map[string]any{
			"id":                    viewID,
			"team_id":               TeamID,
			"type":                  "modal",
			"blocks":                blocks,
			"private_metadata":      privateMetadata,
			"callback_id":           callbackID,
			"state":                 map[string]any{"values": state},
			"hash":                  hash,
			"title":                 title,
			"clear_on_close":        false,
			"notify_on_close":       false,
			"close":                 map[string]any{"type": "plain_text", "text": "Cancel", "emoji": true},
			"submit":                map[string]any{"type": "plain_text", "text": "Submit", "emoji": true},
			"previous_view_id":      nil,
			"root_view_id":          viewID,
			"app_id":                AppID,
			"external_id":           "",
			"app_installed_team_id": TeamID,
			"bot_id":                BotID,
		},
		"response_urls": []any{},
	}
}

// channelType returns the Events API channel_type for a channel ID.
func channelType(channel string) string {
	switch {
	case strings.HasPrefix(channel, "D"):
		return "im"
	case strings.HasPrefix(channel, "G"):
		return "group"
	default:
		return "channel"
	}
}

// ThreadMessage builds a "message" event: userID wrote text in the thread
// threadTS of channel. Its ts is new and unique across the server. The fake
// does not store it (see [Server.Messages]). Wrap it with
// [Server.EventCallback], or deliver it with [Server.PostEvent].
func (s *Server) ThreadMessage(channel, threadTS, userID, text string) map[string]any {
	ts := s.newTS()
	return map[string]any{
		"client_msg_id": newUUID(),
		"type":          "message",
		"text":          text,
		"user":          userID,
		"ts":            ts,
		"team":          TeamID,
		"blocks": []any{map[string]any{
			"type":     "rich_text",
			"block_id": randomHex(2),
			"elements": []any{map[string]any{
				"type":     "rich_text_section",
				"elements": []any{map[string]any{"type": "text", "text": text}},
			}},
		}},
		"thread_ts":      threadTS,
		"parent_user_id": BotUserID,
		"channel":        channel,
		"event_ts":       ts,
		"channel_type":   channelType(channel),
	}
}

// SlashCommand builds the form Slack sends for a slash command: command
// (e.g. "/support") with text, typed by userID in channelID. Deliver it with
// [Server.PostCommand] or [Server.Send] (type "slash_commands").
func (s *Server) SlashCommand(userID, userName, command, text, channelID string) url.Values {
	return url.Values{
		"token":                 {VerificationToken},
		"team_id":               {TeamID},
		"team_domain":           {TeamDomain},
		"channel_id":            {channelID},
		"channel_name":          {""},
		"user_id":               {userID},
		"user_name":             {userName},
		"command":               {command},
		"text":                  {text},
		"api_app_id":            {AppID},
		"is_enterprise_install": {"false"},
		"response_url":          {s.responseURL("commands")},
		"trigger_id":            {s.triggerID()},
	}
}
