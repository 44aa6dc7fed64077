package telegram

import (
	"math"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"supportbot/bot"
)

// action says what to do with one update.
type action int

const (
	// ignore: not for us (groups, channels, inline queries...);
	// nothing is committed and the update is confirmed.
	ignore action = iota
	// answerOnly: a callback query we do not handle (no private chat); it
	// is still answered so the client stops its spinner.
	answerOnly
	// handle: an Inbound for the engine.
	handle
)

// incoming is one translated update.
type incoming struct {
	act  action
	in   bot.Inbound
	chat int64
	// query is the callback query id to answer, if any.
	query string
}

// translate turns an update into an Inbound for a private chat, or says why
// not. Only messages, edited messages and callback queries from private
// chats are handled. A message without text is Unsupported, its caption (a
// photo's) carried for the engine's checks; an edit without text or
// caption (a live location moving) is ignored.
// updateID is the Inbound.UpdateID of Telegram's update id: the id itself,
// but for 0, which the engine takes as "no id" and would never
// deduplicate. Telegram's ids are positive, but after a week without
// updates it starts them afresh at a random value, so 0 maps to
// math.MinInt64, an id no Telegram update has (handled ids are kept per
// channel, so no other platform's ids meet it).
func updateID(id int64) int64 {
	if id == 0 {
		return math.MinInt64
	}
	return id
}

func translate(u *models.Update, defaultLang string) incoming {
	switch {
	case u.Message != nil, u.EditedMessage != nil:
		m, edited := u.Message, false
		if m == nil {
			m, edited = u.EditedMessage, true
		}
		if m.Chat.Type != models.ChatTypePrivate || serviceMessage(m) {
			return incoming{act: ignore}
		}
		if edited && m.Text == "" && m.Caption == "" {
			return incoming{act: ignore}
		}
		in := bot.Inbound{
			Key:       Key(m.Chat.ID),
			UpdateID:  updateID(u.ID),
			MessageID: m.ID,
			Name:      m.Chat.FirstName,
		}
		if m.From != nil {
			in.LangHint = m.From.LanguageCode
			if m.From.FirstName != "" {
				in.Name = m.From.FirstName
			}
		}
		if m.Text != "" {
			in.Text = stripBotName(m.Text)
		} else {
			in.Unsupported, in.Caption = true, m.Caption
		}
		in.Edited = edited
		if in.LangHint == "" {
			in.LangHint = defaultLang
		}
		return incoming{act: handle, in: in, chat: m.Chat.ID}

	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		var chat models.Chat
		var msgID int
		switch {
		case q.Message.Message != nil:
			chat, msgID = q.Message.Message.Chat, q.Message.Message.ID
		case q.Message.InaccessibleMessage != nil:
			chat, msgID = q.Message.InaccessibleMessage.Chat, q.Message.InaccessibleMessage.MessageID
		}
		if chat.Type != models.ChatTypePrivate || chat.ID == 0 || q.Data == "" {
			return incoming{act: answerOnly, query: q.ID}
		}
		in := bot.Inbound{
			Key:       Key(chat.ID),
			UpdateID:  updateID(u.ID),
			Data:      q.Data,
			MessageID: msgID,
			LangHint:  q.From.LanguageCode,
			Name:      q.From.FirstName,
		}
		if in.LangHint == "" {
			in.LangHint = defaultLang
		}
		return incoming{act: handle, in: in, chat: chat.ID, query: q.ID}
	}
	return incoming{act: ignore}
}

// serviceMessage reports a private-chat service message that is no
// customer input (a pin, an auto-delete timer change, write access granted,
// a payment notice).
func serviceMessage(m *models.Message) bool {
	return m.PinnedMessage != nil || m.MessageAutoDeleteTimerChanged != nil ||
		m.WriteAccessAllowed != nil || m.ChatBackgroundSet != nil ||
		m.SuccessfulPayment != nil || m.RefundedPayment != nil
}

// stripBotName removes the @botname suffix of a leading command:
// "/help@support_bot x" becomes "/help x".
func stripBotName(text string) string {
	if !strings.HasPrefix(text, "/") {
		return text
	}
	end := strings.IndexAny(text, " \n\t")
	if end < 0 {
		end = len(text)
	}
	at := strings.IndexByte(text[:end], '@')
	if at < 0 {
		return text
	}
	return text[:at] + text[end:]
}

// chatOf returns the chat id of a conversation key of this channel.
func chatOf(key string) (int64, bool) {
	rest, ok := strings.CutPrefix(key, KeyPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}
