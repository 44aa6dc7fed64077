package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"supportbot/bot/telegram/telegramtest"
)

// fakeBotAPI is a minimal in-process Bot API for load runs: it answers the
// methods the channel calls in the real wire format, counts the calls, and
// hands each chat's messages straight to its customer.
//
// It is not telegramtest.Server, which the tests use, on purpose: that one
// records every call and message for assertions and wakes every waiter on
// each change, so its memory and CPU grow with the run and with the number
// of customers, and its cost would be charged to the figures. This one
// keeps nothing. It shares the wire types (telegramtest.Markup).
type fakeBotAPI struct {
	token string
	// users and calls are read-only once serving.
	users map[int64]*customer
	calls map[string]*atomic.Int64 // by method
	errs  *errorLog
	// limits, if set, answers 429 to messages beyond Telegram's limits.
	limits *apiLimits
}

// rateLimited counts the messages answered 429 (with --telegram-limits).
const rateLimited = "429 Too Many Requests"

// apiMethods are the Bot API methods the fake answers.
var apiMethods = []string{
	"getMe", "setMyCommands", "setWebhook", "deleteWebhook", "sendChatAction", "answerCallbackQuery",
	"deleteMessage", "sendMessage", "editMessageText", "editMessageReplyMarkup",
}

func newFakeBotAPI(token string, errs *errorLog) *fakeBotAPI {
	f := &fakeBotAPI{token: token, users: map[int64]*customer{}, calls: map[string]*atomic.Int64{}, errs: errs}
	for _, m := range apiMethods {
		f.calls[m] = new(atomic.Int64)
	}
	f.calls[rateLimited] = new(atomic.Int64)
	return f
}

// counts returns the calls answered so far, by method.
func (f *fakeBotAPI) counts() map[string]int64 {
	out := make(map[string]int64, len(f.calls))
	for m, n := range f.calls {
		out[m] = n.Load()
	}
	return out
}

func (f *fakeBotAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+f.token+"/")
	if !ok {
		f.errs.add("fake Bot API: request to %s", r.URL.Path)
		apiFail(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	n, ok := f.calls[method]
	if !ok {
		f.errs.add("fake Bot API: unexpected method %s", method)
		apiFail(w, http.StatusNotFound, "Not Found")
		return
	}
	n.Add(1)
	switch method {
	case "getMe":
		apiOK(w, `{"id":424242,"is_bot":true,"first_name":"Support","username":"supportbot_load_bot"}`)
	case "sendMessage", "editMessageText", "editMessageReplyMarkup":
		f.message(w, r, method)
	default:
		io.Copy(io.Discard, r.Body)
		apiOK(w, "true")
	}
}

// message handles a send or an edit and passes it to the chat's customer.
func (f *fakeBotAPI) message(w http.ResponseWriter, r *http.Request, method string) {
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		f.errs.add("fake Bot API: %s: %v", method, err)
		apiFail(w, http.StatusBadRequest, "Bad Request: can't parse the request")
		return
	}
	chat, err := strconv.ParseInt(r.FormValue("chat_id"), 10, 64)
	if err != nil || chat == 0 {
		f.errs.add("fake Bot API: %s without chat_id", method)
		apiFail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	if f.limits != nil {
		if ok, wait := f.limits.admit(chat, time.Now()); !ok {
			// Counted as a 429, not as a message.
			f.calls[method].Add(-1)
			f.calls[rateLimited].Add(1)
			tooMany(w, wait)
			return
		}
	}
	text := r.FormValue("text")
	if method != "editMessageReplyMarkup" && strings.TrimSpace(text) == "" {
		f.errs.add("fake Bot API: %s with empty text", method)
		apiFail(w, http.StatusBadRequest, "Bad Request: message text is empty")
		return
	}
	m := botMessage{text: text}
	if mk := r.FormValue("reply_markup"); mk != "" {
		var kb telegramtest.Markup
		if err := json.Unmarshal([]byte(mk), &kb); err != nil {
			f.errs.add("fake Bot API: %s: reply_markup: %v", method, err)
			apiFail(w, http.StatusBadRequest, "Bad Request: can't parse reply keyboard markup JSON object")
			return
		}
		for _, row := range kb.InlineKeyboard {
			for _, b := range row {
				if len(b.CallbackData) > 64 {
					f.errs.add("fake Bot API: callback data of %d bytes", len(b.CallbackData))
				}
				m.buttons = append(m.buttons, b.CallbackData)
			}
		}
	}
	u := f.users[chat]
	if method == "sendMessage" {
		if u != nil {
			m.id = int(u.msgIDs.Add(1))
		} else {
			m.id = 1
		}
	} else {
		m.id, _ = strconv.Atoi(r.FormValue("message_id"))
	}
	m.at = time.Now()
	if u != nil {
		select {
		case u.inbox <- m:
		default:
			f.errs.add("chat %d: inbox full, message dropped", chat)
		}
	}
	var b []byte
	b = append(b, `{"message_id":`...)
	b = strconv.AppendInt(b, int64(m.id), 10)
	b = append(b, `,"date":`...)
	b = strconv.AppendInt(b, m.at.Unix(), 10)
	b = append(b, `,"chat":{"id":`...)
	b = strconv.AppendInt(b, chat, 10)
	b = append(b, `,"type":"private"}}`...)
	apiOK(w, string(b))
}

func apiOK(w http.ResponseWriter, result string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true,"result":`+result+`}`)
}

func apiFail(w http.ResponseWriter, code int, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": code, "description": desc})
}

// botMessage is a message the bot sent or edited, as its customer sees it.
type botMessage struct {
	id      int
	text    string
	buttons []string  // callback data
	at      time.Time // when it reached the fake Bot API
}

func (m botMessage) has(data string) bool { return slices.Contains(m.buttons, data) }
