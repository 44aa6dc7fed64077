// Package telegramtest provides a fake Telegram Bot API for tests: an
// httptest server that speaks the real wire format (requests to
// /bot<token>/<method> as multipart/form-data, url-encoded or JSON, answers
// {"ok":true,"result":...} or {"ok":false,"error_code":...}), queues updates
// for getUpdates, keeps each chat's messages, records every call with its
// decoded fields and injects errors. Tests synchronise on its Wait methods,
// never on sleeps.
//
// It imports neither bot/telegram nor go-telegram: it decodes what the
// adapter really sends.
package telegramtest

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// Token is the bot token the server accepts; any other gets 401 Unauthorized,
// as from the real API.
const Token = "123456:TEST-token_telegramtest"

// BotUsername is the username getMe reports.
const BotUsername = "supportbot_test_bot"

// Call is one request the server received, with its fields decoded.
type Call struct {
	// Method is the Bot API method as named in the URL, e.g. "sendMessage".
	Method string
	// Time is when the request arrived.
	Time time.Time
	// Fields holds every request field as sent (JSON values as their text).
	Fields map[string]string
	// ChatID, Text, ParseMode and MessageID are the common fields decoded.
	ChatID    int64
	Text      string
	ParseMode string
	MessageID int
	// Markup is the decoded reply_markup, nil if none was sent.
	Markup *Markup
	// Code is the status answered: 200 for success, else the error_code.
	Code int
	// Description is the error description answered, if any.
	Description string
	// Result is the message id a successful sendMessage assigned.
	Result int
}

// OK reports whether the call was answered with success.
func (c Call) OK() bool { return c.Code == http.StatusOK }

// Markup is an inline keyboard as the Bot API encodes it.
type Markup struct {
	InlineKeyboard [][]Button `json:"inline_keyboard"`
}

// Button is one inline keyboard button.
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// Message is one message in a chat as the server keeps it.
type Message struct {
	ID     int
	ChatID int64
	// FromBot is false for messages pushed as the user's.
	FromBot bool
	Text    string
	Markup  *Markup
}

// User is the customer a pushed update comes from. Its private chat has the
// same id.
type User struct {
	ID           int64
	FirstName    string
	LanguageCode string
}

// Command is one entry of a setMyCommands call.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// Fault makes the server answer matching calls with an error instead of
// handling them.
type Fault struct {
	// Method limits the fault to one method ("" = every method except
	// getUpdates, getMe and the webhook methods).
	Method string
	// ChatID limits the fault to one chat (0 = any chat).
	ChatID int64
	// Times is how many matching calls fail (0 = all of them, until Clear).
	Times int
	// Code is the error_code (and HTTP status): 400, 403, 429, 500...
	Code int
	// Description defaults to the real API's wording for Code.
	Description string
	// RetryAfter is sent as parameters.retry_after (429).
	RetryAfter int
	// Drop closes the connection without an answer (a network failure).
	Drop bool
}

// Server is a fake Bot API. Create it with NewServer.
type Server struct {
	// URL is the base URL to give the client (the SDK's server URL).
	URL string

	srv *httptest.Server

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change
	queue     []queued      // updates not yet confirmed, by id
	confirmed int64         // the highest offset seen: updates below are confirmed
	lastID    int64         // the highest update id pushed
	pushed    bool
	calls     []Call
	faults    []*Fault
	chats     map[int64][]*Message
	nextMsg   map[int64]int
	queries   map[string]bool // callback query id → answered
	webhook   string
	secret    string
	local     bool // a local Bot API server: http webhooks allowed
	commands  map[string][]Command
}

type queued struct {
	id  int64
	raw json.RawMessage
}

// NewServer starts a fake Bot API and closes it when the test ends.
func NewServer(tb testing.TB) *Server {
	s := &Server{
		changed:  make(chan struct{}),
		chats:    map[int64][]*Message{},
		nextMsg:  map[int64]int{},
		queries:  map[string]bool{},
		commands: map[string][]Command{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	tb.Cleanup(s.Close)
	return s
}

// Close shuts the server down, ending any long poll.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// notify wakes every waiter; call with s.mu held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// PushText queues a text message from u in its private chat and returns the
// update id.
func (s *Server) PushText(u User, text string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgID := s.addMessage(u.ID, false, text, nil)
	upd := map[string]any{
		"message": map[string]any{
			"message_id": msgID,
			"from":       userJSON(u),
			"chat":       chatJSON(u),
			"date":       time.Now().Unix(),
			"text":       text,
		},
	}
	return s.pushLocked(s.allocID(), upd)
}

// PushCallback queues a button press by u on the bot message messageID and
// returns the update id. The callback query's id is "cb<update id>".
func (s *Server) PushCallback(u User, messageID int, data string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := map[string]any{"message_id": messageID, "chat": chatJSON(u), "date": 0}
	for _, m := range s.chats[u.ID] {
		if m.ID == messageID {
			msg["date"] = time.Now().Unix()
			msg["text"] = m.Text
			msg["from"] = map[string]any{"id": botID(), "is_bot": true, "first_name": "Support", "username": BotUsername}
			if m.Markup != nil {
				msg["reply_markup"] = m.Markup
			}
		}
	}
	id := s.allocID()
	qid := "cb" + strconv.FormatInt(id, 10)
	s.queries[qid] = false
	upd := map[string]any{
		"callback_query": map[string]any{
			"id":            qid,
			"from":          userJSON(u),
			"message":       msg,
			"chat_instance": "-4242",
			"data":          data,
		},
	}
	return s.pushLocked(id, upd)
}

// SetLocal makes the server act as a local Bot API server (telegram-bot-api
// --local), whose setWebhook also takes plain http URLs.
func (s *Server) SetLocal(local bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.local = local
}

// rawMessage is what PushRaw reads of a message or an edited message.
type rawMessage struct {
	ID   int `json:"message_id"`
	Chat struct {
		ID   int64  `json:"id"`
		Type string `json:"type"`
	} `json:"chat"`
	Text    string `json:"text"`
	Caption string `json:"caption"`
}

// PushRaw queues one update given as its JSON text; it must carry an
// update_id greater than every one pushed before. A callback query's id is
// remembered so answering it succeeds. A message in a private chat is kept
// in the chat as the user's (its text, or its caption), so the bot can
// delete it; an edited message replaces the text of the one with its id.
// Messages the server numbers itself come after it.
func (s *Server) PushRaw(update []byte) (int64, error) {
	var head struct {
		ID            *int64 `json:"update_id"`
		CallbackQuery *struct {
			ID string `json:"id"`
		} `json:"callback_query"`
		Message       *rawMessage `json:"message"`
		EditedMessage *rawMessage `json:"edited_message"`
	}
	if err := json.Unmarshal(update, &head); err != nil {
		return 0, fmt.Errorf("telegramtest: decode update: %w", err)
	}
	if head.ID == nil {
		return 0, errors.New("telegramtest: update has no update_id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if (s.pushed && *head.ID <= s.lastID) || *head.ID < s.confirmed {
		return 0, fmt.Errorf("telegramtest: update_id %d is not above the ids already pushed", *head.ID)
	}
	if head.CallbackQuery != nil {
		s.queries[head.CallbackQuery.ID] = false
	}
	for _, m := range []*rawMessage{head.Message, head.EditedMessage} {
		if m == nil || m.Chat.Type != "private" || m.ID <= 0 {
			continue
		}
		text := cmp.Or(m.Text, m.Caption)
		if _, old := s.findMessage(m.Chat.ID, m.ID); old != nil {
			old.Text = text
			continue
		}
		s.chats[m.Chat.ID] = append(s.chats[m.Chat.ID], &Message{ID: m.ID, ChatID: m.Chat.ID, Text: text})
		s.nextMsg[m.Chat.ID] = max(s.nextMsg[m.Chat.ID], m.ID)
	}
	s.queue = append(s.queue, queued{id: *head.ID, raw: slices.Clone(update)})
	s.lastID, s.pushed = *head.ID, true
	s.notify()
	return *head.ID, nil
}

// allocID returns the next update id for a generated update (from 1001 on).
func (s *Server) allocID() int64 {
	s.lastID, s.pushed = max(s.lastID, 1000)+1, true
	return s.lastID
}

func (s *Server) pushLocked(id int64, upd map[string]any) int64 {
	upd["update_id"] = id
	raw, err := json.Marshal(upd)
	if err != nil {
		panic(err) // the maps above always marshal
	}
	s.queue = append(s.queue, queued{id: id, raw: raw})
	s.notify()
	return id
}

// Inject adds a fault; faults are matched in the order they were added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Clear removes every fault.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Calls returns the calls of method received so far ("" = all), oldest first.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsLocked(method)
}

func (s *Server) callsLocked(method string) []Call {
	var out []Call
	for _, c := range s.calls {
		if method == "" || strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// WaitCalls waits until at least n calls of method were received, or timeout,
// and returns them all; fewer than n means it timed out.
func (s *Server) WaitCalls(method string, n int, timeout time.Duration) []Call {
	var got []Call
	s.WaitFor(timeout, func() bool {
		got = s.Calls(method)
		return len(got) >= n
	})
	return got
}

// WaitFor waits until cond returns true, re-checking it after every change
// to the server's state (a call, a push), and reports whether it did before
// timeout. cond must not block; it may call the server's methods.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond()
		}
	}
}

// Confirmed returns the highest getUpdates offset received: every update
// below it is confirmed and gone.
func (s *Server) Confirmed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmed
}

// WaitConfirmed waits until the client confirmed updateID (asked for an
// offset above it) and reports whether it did before timeout.
func (s *Server) WaitConfirmed(updateID int64, timeout time.Duration) bool {
	return s.WaitFor(timeout, func() bool { return s.Confirmed() > updateID })
}

// Messages returns the messages now in the private chat chatID, oldest
// first, with edits applied and deleted ones gone.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.chats[chatID] {
		out = append(out, *m)
	}
	return out
}

// WaitBotMessages waits until the bot has at least n messages in chatID,
// or timeout, and returns them (oldest first); fewer than n means it timed
// out.
func (s *Server) WaitBotMessages(chatID int64, n int, timeout time.Duration) []Message {
	var got []Message
	s.WaitFor(timeout, func() bool {
		got = slices.DeleteFunc(s.Messages(chatID), func(m Message) bool { return !m.FromBot })
		return len(got) >= n
	})
	return got
}

// Webhook returns the URL and secret token of the last setWebhook ("" after
// deleteWebhook).
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook, s.secret
}

// Commands returns the commands last set for a language_code ("" = default).
func (s *Server) Commands(lang string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[lang])
}

// Answered reports whether the callback query with id was answered.
func (s *Server) Answered(queryID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[queryID]
}

func (s *Server) addMessage(chat int64, fromBot bool, text string, mk *Markup) int {
	s.nextMsg[chat]++
	id := s.nextMsg[chat]
	s.chats[chat] = append(s.chats[chat], &Message{ID: id, ChatID: chat, FromBot: fromBot, Text: text, Markup: mk})
	return id
}

func (s *Server) findMessage(chat int64, id int) (int, *Message) {
	for i, m := range s.chats[chat] {
		if m.ID == id {
			return i, m
		}
	}
	return -1, nil
}

// apiError is an answer with ok=false.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func badRequest(desc string) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + desc}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	received := time.Now()
	token, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if !strings.HasPrefix(r.URL.Path, "/bot") || !ok || method == "" {
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	fields, err := readFields(r)
	if err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}
	c := Call{Method: method, Time: received, Fields: fields, Text: fields["text"], ParseMode: fields["parse_mode"]}
	c.ChatID, _ = strconv.ParseInt(fields["chat_id"], 10, 64)
	c.MessageID, _ = strconv.Atoi(fields["message_id"])
	if mk, ok := fields["reply_markup"]; ok {
		c.Markup = new(Markup)
		if err := json.Unmarshal([]byte(mk), c.Markup); err != nil {
			c.Markup = nil
			s.finish(w, c, nil, badRequest("can't parse reply keyboard markup JSON object"))
			return
		}
	}
	if token != Token {
		s.finish(w, c, nil, &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	}

	if strings.EqualFold(method, "getUpdates") {
		s.getUpdates(w, r, c)
		return
	}

	s.mu.Lock()
	if f := s.faultLocked(c); f != nil {
		if f.Drop {
			s.calls = append(s.calls, c)
			s.notify()
			s.mu.Unlock()
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		desc := f.Description
		if desc == "" {
			desc = defaultDescription(f.Code, f.RetryAfter)
		}
		s.mu.Unlock()
		s.finish(w, c, nil, &apiError{code: f.Code, desc: desc, retryAfter: f.RetryAfter})
		return
	}
	result, aerr := s.handleLocked(&c)
	s.mu.Unlock()
	s.finish(w, c, result, aerr)
}

// finish records c with its outcome and writes the answer.
func (s *Server) finish(w http.ResponseWriter, c Call, result any, aerr *apiError) {
	if aerr != nil {
		c.Code, c.Description = aerr.code, aerr.desc
	} else {
		c.Code = http.StatusOK
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.notify()
	s.mu.Unlock()
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeResult(w, result)
}

func (s *Server) faultLocked(c Call) *Fault {
	for i, f := range s.faults {
		if f.Method == "" {
			switch strings.ToLower(c.Method) {
			case "getme", "getupdates", "setwebhook", "deletewebhook":
				continue
			}
		} else if !strings.EqualFold(f.Method, c.Method) {
			continue
		}
		if f.ChatID != 0 && f.ChatID != c.ChatID {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return f
	}
	return nil
}

func defaultDescription(code, retryAfter int) string {
	switch code {
	case http.StatusTooManyRequests:
		return "Too Many Requests: retry after " + strconv.Itoa(retryAfter)
	case http.StatusForbidden:
		return "Forbidden: bot was blocked by the user"
	case http.StatusBadRequest:
		return "Bad Request: chat not found"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusConflict:
		return "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	}
	return "Internal Server Error"
}

func (s *Server) handleLocked(c *Call) (any, *apiError) {
	f := c.Fields
	switch strings.ToLower(c.Method) {
	case "getme":
		return map[string]any{"id": botID(), "is_bot": true, "first_name": "Support", "username": BotUsername,
			"can_join_groups": false, "can_read_all_group_messages": false, "supports_inline_queries": false}, nil
	case "setwebhook":
		if f["url"] == "" {
			s.webhook, s.secret = "", ""
			return true, nil
		}
		if !strings.HasPrefix(f["url"], "https://") && !(s.local && strings.HasPrefix(f["url"], "http://")) {
			return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
		}
		s.webhook, s.secret = f["url"], f["secret_token"]
		return true, nil
	case "deletewebhook":
		s.webhook, s.secret = "", ""
		return true, nil
	case "getwebhookinfo":
		return map[string]any{"url": s.webhook, "has_custom_certificate": false, "pending_update_count": len(s.queue)}, nil
	case "setmycommands":
		var cmds []Command
		if err := json.Unmarshal([]byte(f["commands"]), &cmds); err != nil {
			return nil, badRequest("can't parse commands JSON object")
		}
		for _, cm := range cmds {
			if cm.Command == "" || len(cm.Command) > 32 || cm.Description == "" || len(cm.Description) > 256 {
				return nil, badRequest("BOT_COMMAND_INVALID")
			}
		}
		s.commands[f["language_code"]] = cmds
		return true, nil
	case "sendchataction":
		if c.ChatID == 0 {
			return nil, badRequest("chat not found")
		}
		if f["action"] == "" {
			return nil, badRequest("action is empty") // wording approximate
		}
		return true, nil
	case "answercallbackquery":
		answered, ok := s.queries[f["callback_query_id"]]
		if !ok || answered {
			return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
		}
		s.queries[f["callback_query_id"]] = true
		return true, nil
	case "sendmessage":
		if c.ChatID == 0 {
			return nil, badRequest("chat not found")
		}
		if err := checkText(c.Text); err != nil {
			return nil, err
		}
		if err := checkMarkup(c.Markup); err != nil {
			return nil, err
		}
		c.Result = s.addMessage(c.ChatID, true, c.Text, c.Markup)
		return s.messageJSON(c.ChatID, c.Result), nil
	case "editmessagetext":
		if err := checkText(c.Text); err != nil {
			return nil, err
		}
		if err := checkMarkup(c.Markup); err != nil {
			return nil, err
		}
		_, m := s.findMessage(c.ChatID, c.MessageID)
		if m == nil {
			return nil, badRequest("message to edit not found")
		}
		if !m.FromBot {
			return nil, badRequest("message can't be edited")
		}
		if m.Text == c.Text && sameMarkup(m.Markup, c.Markup) {
			return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
		}
		m.Text, m.Markup = c.Text, c.Markup
		return s.messageJSON(c.ChatID, m.ID), nil
	case "editmessagereplymarkup":
		if err := checkMarkup(c.Markup); err != nil {
			return nil, err
		}
		_, m := s.findMessage(c.ChatID, c.MessageID)
		if m == nil {
			return nil, badRequest("message to edit not found")
		}
		if sameMarkup(m.Markup, c.Markup) {
			return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
		}
		m.Markup = c.Markup
		return s.messageJSON(c.ChatID, m.ID), nil
	case "deletemessage":
		i, m := s.findMessage(c.ChatID, c.MessageID)
		if m == nil {
			return nil, badRequest("message to delete not found")
		}
		s.chats[c.ChatID] = slices.Delete(s.chats[c.ChatID], i, i+1)
		return true, nil
	}
	return nil, &apiError{code: http.StatusNotFound, desc: "Not Found"}
}

func (s *Server) messageJSON(chat int64, id int) map[string]any {
	_, m := s.findMessage(chat, id)
	out := map[string]any{
		"message_id": id,
		"from":       map[string]any{"id": botID(), "is_bot": true, "first_name": "Support", "username": BotUsername},
		"chat":       map[string]any{"id": chat, "type": "private"},
		"date":       time.Now().Unix(),
		"text":       m.Text,
	}
	if m.Markup != nil && len(m.Markup.InlineKeyboard) > 0 {
		out["reply_markup"] = m.Markup
	}
	return out
}

// getUpdates confirms updates below offset and answers those from offset
// on, waiting up to timeout seconds for one to arrive.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, c Call) {
	offset, _ := strconv.ParseInt(c.Fields["offset"], 10, 64)
	limit, _ := strconv.Atoi(c.Fields["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(c.Fields["timeout"])
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()

	s.mu.Lock()
	if s.webhook != "" {
		s.mu.Unlock()
		s.finish(w, c, nil, &apiError{code: http.StatusConflict, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
		return
	}
	if f := s.faultLocked(c); f != nil && f.Method != "" {
		s.mu.Unlock()
		desc := f.Description
		if desc == "" {
			desc = defaultDescription(f.Code, f.RetryAfter)
		}
		s.finish(w, c, nil, &apiError{code: f.Code, desc: desc, retryAfter: f.RetryAfter})
		return
	}
	if offset > s.confirmed {
		s.confirmed = offset
		s.queue = slices.DeleteFunc(s.queue, func(q queued) bool { return q.id < offset })
	}
	// Record the call now: the confirmation happened, even if the poll waits.
	c.Code = http.StatusOK
	s.calls = append(s.calls, c)
	s.notify()
	for {
		var out []json.RawMessage
		for _, q := range s.queue {
			if q.id >= offset && len(out) < limit {
				out = append(out, q.raw)
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if len(out) > 0 {
			writeResult(w, out)
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			writeResult(w, []json.RawMessage{})
			return
		case <-r.Context().Done():
			return
		}
		s.mu.Lock()
	}
}

// readFields decodes the request parameters the ways the Bot API accepts
// them: query string, url-encoded or multipart form, or a JSON object.
func readFields(r *http.Request) (map[string]string, error) {
	fields := map[string]string{}
	for k, v := range r.URL.Query() {
		fields[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		// A method without parameters comes as an empty body.
		if err := r.ParseMultipartForm(32 << 20); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("parse multipart form: %v", err)
		}
		if r.MultipartForm == nil {
			break
		}
		for k, v := range r.MultipartForm.Value {
			fields[k] = v[0]
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("parse form: %v", err)
		}
		for k, v := range r.PostForm {
			fields[k] = v[0]
		}
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("parse JSON: %v", err)
		}
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) == nil {
				fields[k] = str
			} else {
				fields[k] = string(v)
			}
		}
	}
	return fields, nil
}

func checkText(text string) *apiError {
	if strings.TrimSpace(text) == "" {
		return badRequest("message text is empty")
	}
	if len(utf16.Encode([]rune(text))) > 4096 {
		return badRequest("message is too long")
	}
	return nil
}

func checkMarkup(m *Markup) *apiError {
	if m == nil {
		return nil
	}
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.Text == "" {
				return badRequest("text buttons are unallowed in the inline keyboard")
			}
			if len(b.CallbackData) > 64 || (b.CallbackData == "" && b.URL == "") {
				return badRequest("BUTTON_DATA_INVALID")
			}
		}
	}
	return nil
}

func sameMarkup(a, b *Markup) bool {
	empty := func(m *Markup) bool { return m == nil || len(m.InlineKeyboard) == 0 }
	if empty(a) || empty(b) {
		return empty(a) && empty(b)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func writeResult(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	if e.retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": e.retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	json.NewEncoder(w).Encode(body)
}

func userJSON(u User) map[string]any {
	m := map[string]any{"id": u.ID, "is_bot": false, "first_name": u.FirstName}
	if u.FirstName == "" {
		m["first_name"] = "User" + strconv.FormatInt(u.ID, 10)
	}
	if u.LanguageCode != "" {
		m["language_code"] = u.LanguageCode
	}
	return m
}

func chatJSON(u User) map[string]any {
	first := u.FirstName
	if first == "" {
		first = "User" + strconv.FormatInt(u.ID, 10)
	}
	return map[string]any{"id": u.ID, "first_name": first, "type": "private"}
}

func botID() int64 {
	id, _ := strconv.ParseInt(strings.SplitN(Token, ":", 2)[0], 10, 64)
	return id
}

// WebhookRequest builds the POST Telegram makes to a webhook — the update as
// the JSON body, the secret in X-Telegram-Bot-Api-Secret-Token (omitted when
// secret is "") — as an incoming request for a handler's ServeHTTP.
func WebhookRequest(target, secret string, update []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(update)))
	r.Header.Set("Content-Type", "application/json")
	if secret != "" {
		r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	return r
}
