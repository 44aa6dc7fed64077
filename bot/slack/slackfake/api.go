package slackfake

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// args gives uniform access to a call's arguments, form or JSON.
type args struct {
	form url.Values
	json map[string]any
}

func (a args) has(key string) bool {
	if a.form != nil {
		_, ok := a.form[key]
		return ok
	}
	_, ok := a.json[key]
	return ok
}

func (a args) str(key string) string {
	if a.form != nil {
		return a.form.Get(key)
	}
	switch v := a.json[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func (a args) bool(key string) bool {
	b, _ := strconv.ParseBool(a.str(key))
	return b
}

// raw returns a JSON-valued argument (blocks, metadata, view): a JSON string
// in a form, a JSON value (or a string holding JSON) in a JSON body. ok is
// false when the value is present but not valid JSON.
func (a args) raw(key string) (json.RawMessage, bool) {
	var s string
	if a.form != nil {
		s = a.form.Get(key)
	} else {
		switch v := a.json[key].(type) {
		case nil:
			return nil, true
		case string:
			s = v
		default:
			b, err := json.Marshal(v)
			return b, err == nil
		}
	}
	if s == "" {
		return nil, true
	}
	if !json.Valid([]byte(s)) {
		return nil, false
	}
	return json.RawMessage(s), true
}

// apiError is a Slack error answer: HTTP 200 with ok false.
type apiError string

// result is what a method handler answers: a body for ok:true, or an error.
type result struct {
	body map[string]any
	err  apiError
}

func ok(body map[string]any) result {
	if body == nil {
		body = map[string]any{}
	}
	body["ok"] = true
	return result{body: body}
}

func fail(code string) result { return result{err: apiError(code)} }

type handler func(s *Server, a args) result

// methods maps each implemented Web API method to its handler and the token
// prefix it requires.
var methods = map[string]struct {
	prefix string
	fn     handler
}{
	"chat.postMessage":      {"xoxb-", (*Server).postMessage},
	"chat.update":           {"xoxb-", (*Server).update},
	"chat.postEphemeral":    {"xoxb-", (*Server).postEphemeral},
	"views.open":            {"xoxb-", (*Server).viewsOpen},
	"views.update":          {"xoxb-", (*Server).viewsUpdate},
	"users.info":            {"xoxb-", (*Server).usersInfo},
	"auth.test":             {"xoxb-", (*Server).authTest},
	"conversations.history": {"xoxb-", (*Server).history},
	"conversations.replies": {"xoxb-", (*Server).replies},
	"apps.connections.open": {"xapp-", (*Server).connectionsOpen},
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	call := Call{At: time.Now(), Method: method}
	a, token, perr := parseArgs(r)
	call.Form, call.JSON = a.form, a.json

	status, body, header := s.answer(method, a, token, perr)
	call.Status = status
	if e, _ := body["error"].(string); e != "" {
		call.Error = e
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	for k, v := range header {
		w.Header().Set(k, v)
	}
	writeJSON(w, status, body)
}

// answer runs one call through fault injection, authentication and the
// method, returning the HTTP status, body and extra headers.
func (s *Server) answer(method string, a args, token string, perr error) (int, map[string]any, map[string]string) {
	s.mu.Lock()
	if f, hit := take(s.rateLimits, method); hit {
		s.mu.Unlock()
		return f.status, map[string]any{"ok": false, "error": "ratelimited"},
			map[string]string{"Retry-After": strconv.Itoa(f.retryAfter)}
	}
	if f, hit := take(s.fails, method); hit {
		s.mu.Unlock()
		code := f.code
		if code == "" {
			code = "fatal_error"
		}
		return f.status, map[string]any{"ok": false, "error": code}, nil
	}
	s.mu.Unlock()

	m, known := methods[method]
	if !known {
		return http.StatusOK, map[string]any{"ok": false, "error": "unknown_method"}, nil
	}
	if perr != nil {
		return http.StatusOK, map[string]any{"ok": false, "error": "invalid_form_data"}, nil
	}
	switch {
	case token == "":
		return http.StatusOK, map[string]any{"ok": false, "error": "not_authed"}, nil
	case !strings.HasPrefix(token, m.prefix):
		return http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"}, nil
	}

	res := m.fn(s, a)

	s.mu.Lock()
	f, hit := take(s.afterApply, method)
	s.mu.Unlock()
	if hit {
		return f.status, map[string]any{"ok": false, "error": "fatal_error"}, nil
	}
	if res.err != "" {
		return http.StatusOK, map[string]any{"ok": false, "error": string(res.err)}, nil
	}
	return http.StatusOK, res.body, nil
}

// parseArgs reads a call's arguments and token. JSON bodies carry the token
// in an Authorization: Bearer header; forms in the token field or the header.
func parseArgs(r *http.Request) (args, string, error) {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if r.Header.Get("Authorization") == "" {
		token = ""
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return args{json: map[string]any{}}, token, err
		}
		m := map[string]any{}
		if len(b) > 0 {
			if err := json.Unmarshal(b, &m); err != nil {
				return args{json: map[string]any{}}, token, err
			}
		}
		return args{json: m}, token, nil
	}
	if err := r.ParseForm(); err != nil {
		return args{form: url.Values{}}, token, err
	}
	form := r.Form
	if form == nil {
		form = url.Values{}
	}
	if token == "" {
		token = form.Get("token")
	}
	return args{form: form}, token, nil
}

// messageJSON renders a stored message as Slack's message object; s.mu must
// be held.
func (s *Server) messageJSON(m *Message, withMetadata bool) map[string]any {
	out := map[string]any{
		"type":   "message",
		"user":   BotUserID,
		"bot_id": BotID,
		"app_id": AppID,
		"team":   TeamID,
		"text":   m.Text,
		"ts":     m.TS,
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	if withMetadata && len(m.Metadata) > 0 {
		out["metadata"] = m.Metadata
	}
	if m.Updated > 0 {
		out["edited"] = map[string]any{"user": BotUserID, "ts": m.TS}
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
		out["parent_user_id"] = BotUserID
	}
	var replies []*Message
	for _, r := range s.messages {
		if r.Channel == m.Channel && r.ThreadTS == m.TS && r.TS != m.TS {
			replies = append(replies, r)
		}
	}
	if len(replies) > 0 {
		out["thread_ts"] = m.TS
		delete(out, "parent_user_id")
		out["reply_count"] = len(replies)
		out["reply_users_count"] = 1
		out["reply_users"] = []string{BotUserID}
		out["latest_reply"] = replies[len(replies)-1].TS
	}
	return out
}

func (s *Server) find(channel, ts string) *Message {
	for _, m := range s.messages {
		if m.Channel == channel && m.TS == ts {
			return m
		}
	}
	return nil
}

func (s *Server) postMessage(a args) result {
	channel := a.str("channel")
	if channel == "" {
		return fail("channel_not_found")
	}
	blocks, valid := a.raw("blocks")
	if !valid {
		return fail("invalid_blocks_format")
	}
	metadata, valid := a.raw("metadata")
	if !valid {
		return fail("invalid_metadata_format")
	}
	text := a.str("text")
	if text == "" && len(blocks) == 0 && a.str("attachments") == "" {
		return fail("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{
		TS:       s.nextTS(),
		ThreadTS: a.str("thread_ts"),
		Channel:  channel,
		Text:     text,
		Blocks:   blocks,
		Metadata: metadata,
	}
	s.messages = append(s.messages, m)
	return ok(map[string]any{"channel": channel, "ts": m.TS, "message": s.messageJSON(m, true)})
}

func (s *Server) update(a args) result {
	channel, ts := a.str("channel"), a.str("ts")
	if channel == "" {
		return fail("channel_not_found")
	}
	blocks, valid := a.raw("blocks")
	if !valid {
		return fail("invalid_blocks_format")
	}
	metadata, valid := a.raw("metadata")
	if !valid {
		return fail("invalid_metadata_format")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.find(channel, ts)
	if m == nil {
		return fail("message_not_found")
	}
	// Slack keeps the previous blocks when blocks is omitted.
	if a.has("text") {
		m.Text = a.str("text")
	}
	if a.has("blocks") {
		m.Blocks = blocks
	}
	if a.has("metadata") {
		m.Metadata = metadata
	}
	m.Updated++
	return ok(map[string]any{"channel": channel, "ts": ts, "text": m.Text, "message": s.messageJSON(m, true)})
}

func (s *Server) postEphemeral(a args) result {
	channel, user := a.str("channel"), a.str("user")
	if channel == "" {
		return fail("channel_not_found")
	}
	if user == "" {
		return fail("user_not_in_channel")
	}
	blocks, valid := a.raw("blocks")
	if !valid {
		return fail("invalid_blocks_format")
	}
	text := a.str("text")
	if text == "" && len(blocks) == 0 && a.str("attachments") == "" {
		return fail("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := Ephemeral{
		TS:       s.nextTS(),
		Channel:  channel,
		User:     user,
		ThreadTS: a.str("thread_ts"),
		Text:     text,
		Blocks:   blocks,
	}
	s.ephemerals = append(s.ephemerals, e)
	return ok(map[string]any{"message_ts": e.TS})
}

// viewJSON renders a stored view as Slack's view object.
func viewJSON(v *View) map[string]any {
	out := map[string]any{}
	_ = json.Unmarshal(v.View, &out)
	for k, def := range map[string]any{"private_metadata": "", "callback_id": "", "external_id": "", "blocks": []any{}} {
		if _, ok := out[k]; !ok {
			out[k] = def
		}
	}
	out["id"] = v.ID
	out["team_id"] = TeamID
	out["state"] = map[string]any{"values": map[string]any{}}
	out["hash"] = v.hash
	out["previous_view_id"] = nil
	out["root_view_id"] = v.ID
	out["app_id"] = AppID
	out["app_installed_team_id"] = TeamID
	out["bot_id"] = BotID
	return out
}

func parseView(a args) (json.RawMessage, apiError) {
	view, valid := a.raw("view")
	if !valid || len(view) == 0 {
		return nil, "invalid_arguments"
	}
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(view, &probe); err != nil || probe.Type == "" {
		return nil, "invalid_arguments"
	}
	return view, ""
}

func (s *Server) viewsOpen(a args) result {
	trigger := a.str("trigger_id")
	if trigger == "" {
		return fail("invalid_arguments")
	}
	view, err := parseView(a)
	if err != "" {
		return fail(string(err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := &View{TriggerID: trigger, ID: s.nextID("V"), View: view}
	v.hash = s.nextTS() + "." + randomHex(4)
	s.views = append(s.views, v)
	return ok(map[string]any{"view": viewJSON(v)})
}

func (s *Server) viewsUpdate(a args) result {
	view, err := parseView(a)
	if err != "" {
		return fail(string(err))
	}
	id, external := a.str("view_id"), a.str("external_id")
	if id == "" && external == "" {
		return fail("invalid_arguments")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.views {
		if id != "" && v.ID != id {
			continue
		}
		if id == "" {
			var probe struct {
				ExternalID string `json:"external_id"`
			}
			_ = json.Unmarshal(v.View, &probe)
			if probe.ExternalID != external {
				continue
			}
		}
		if h := a.str("hash"); h != "" && h != v.hash {
			return fail("hash_conflict")
		}
		v.View = view
		v.Updated++
		v.hash = s.nextTS() + "." + randomHex(4)
		return ok(map[string]any{"view": viewJSON(v)})
	}
	return fail("not_found")
}

func (s *Server) usersInfo(a args) result {
	s.mu.Lock()
	u, found := s.users[a.str("user")]
	s.mu.Unlock()
	if !found {
		return fail("user_not_found")
	}
	return ok(map[string]any{"user": map[string]any{
		"id":        u.id,
		"team_id":   TeamID,
		"name":      u.name,
		"deleted":   false,
		"real_name": u.realName,
		"is_bot":    false,
		"profile": map[string]any{
			"first_name":              u.firstName,
			"last_name":               strings.TrimSpace(strings.TrimPrefix(u.realName, u.firstName)),
			"real_name":               u.realName,
			"real_name_normalized":    u.realName,
			"display_name":            u.name,
			"display_name_normalized": u.name,
			"team":                    TeamID,
		},
	}})
}

func (s *Server) authTest(args) result {
	return ok(map[string]any{
		"url":                   "https://" + TeamDomain + ".slack.com/",
		"team":                  "Fake Workspace",
		"user":                  "supportbot",
		"team_id":               TeamID,
		"user_id":               BotUserID,
		"bot_id":                BotID,
		"is_enterprise_install": false,
	})
}

func limit(a args) int {
	n, err := strconv.Atoi(a.str("limit"))
	if err != nil || n <= 0 || n > 1000 {
		return 100
	}
	return n
}

func page(msgs []map[string]any, n int) map[string]any {
	more := len(msgs) > n
	if more {
		msgs = msgs[:n]
	}
	if msgs == nil {
		msgs = []map[string]any{}
	}
	return ok(map[string]any{
		"messages":          msgs,
		"has_more":          more,
		"response_metadata": map[string]any{"next_cursor": ""},
	}).body
}

// history answers the channel's top-level messages, newest first.
func (s *Server) history(a args) result {
	channel := a.str("channel")
	if channel == "" {
		return fail("channel_not_found")
	}
	meta := a.bool("include_all_metadata")
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, m := range slices.Backward(s.messages) {
		if m.Channel == channel && (m.ThreadTS == "" || m.ThreadTS == m.TS) {
			out = append(out, s.messageJSON(m, meta))
		}
	}
	return result{body: page(out, limit(a))}
}

// replies answers a thread: its parent first, then the replies, oldest first.
func (s *Server) replies(a args) result {
	channel, ts := a.str("channel"), a.str("ts")
	if channel == "" {
		return fail("channel_not_found")
	}
	meta := a.bool("include_all_metadata")
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := s.find(channel, ts)
	if parent == nil {
		return fail("thread_not_found")
	}
	if parent.ThreadTS != "" && parent.ThreadTS != parent.TS {
		if p := s.find(channel, parent.ThreadTS); p != nil {
			parent = p
		}
	}
	out := []map[string]any{s.messageJSON(parent, meta)}
	for _, m := range s.messages {
		if m.Channel == channel && m.ThreadTS == parent.TS && m.TS != parent.TS {
			out = append(out, s.messageJSON(m, meta))
		}
	}
	return result{body: page(out, limit(a))}
}

func (s *Server) connectionsOpen(args) result {
	s.mu.Lock()
	s.ticketCount++
	ticket := strconv.Itoa(s.ticketCount) + "-" + randomHex(8)
	s.tickets[ticket] = true
	s.mu.Unlock()
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws?" +
		url.Values{"ticket": {ticket}, "app_id": {AppID}}.Encode()
	return ok(map[string]any{"url": u})
}
