package telegram

import (
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"supportbot/bot"
)

// maxTextUnits is Telegram's limit on a message text, in UTF-16 code units.
const maxTextUnits = 4096

// maxCallbackData is Telegram's limit on a button's callback data, in bytes.
const maxCallbackData = 64

const rlm = "\u200f" // right-to-left mark

// stepKind is one Bot API call that delivers part of a reply.
type stepKind int

const (
	stepSend stepKind = iota
	stepEdit
	stepEditMarkup
	stepDelete
)

func (k stepKind) method() string {
	return [...]string{"sendMessage", "editMessageText", "editMessageReplyMarkup", "deleteMessage"}[k]
}

// step is one call of a rendered reply.
type step struct {
	kind   stepKind
	text   string
	markup *models.InlineKeyboardMarkup
	msgID  int
}

// plan renders an envelope as the calls that deliver it: the deletion
// first, then the text split into parts (an edit replaces the first part),
// the buttons under the last part.
func (o *outbox) plan(env bot.Envelope, log *slog.Logger) []step {
	r := env.Reply
	var steps []step
	if r.DeleteID != 0 {
		steps = append(steps, step{kind: stepDelete, msgID: r.DeleteID})
	}
	kb := o.keyboard(log, r.Buttons)
	if strings.TrimSpace(r.Text) == "" {
		switch {
		case r.EditID != 0:
			if kb == nil { // remove the buttons
				kb = &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{}}
			}
			steps = append(steps, step{kind: stepEditMarkup, msgID: r.EditID, markup: kb})
		case kb != nil:
			log.Error("reply with buttons but no text dropped")
		}
		return steps
	}
	parts := splitText(r.Text, maxTextUnits, env.Lang == "he")
	for i, p := range parts {
		s := step{kind: stepSend, text: p}
		if i == 0 && r.EditID != 0 {
			s.kind, s.msgID = stepEdit, r.EditID
		}
		if i == len(parts)-1 {
			s.markup = kb
		}
		steps = append(steps, s)
	}
	return steps
}

// keyboard renders button rows as an inline keyboard, dropping (and
// logging) buttons Telegram would reject.
func (o *outbox) keyboard(log *slog.Logger, rows [][]bot.Button) *models.InlineKeyboardMarkup {
	var kb [][]models.InlineKeyboardButton
	for _, row := range rows {
		var out []models.InlineKeyboardButton
		for _, b := range row {
			switch {
			case b.Data == "" || len(b.Data) > maxCallbackData:
				log.Error("button dropped: callback data must be 1-64 bytes", "bytes", len(b.Data))
				continue
			case strings.TrimSpace(b.Label) == "":
				log.Error("button dropped: empty label")
				continue
			}
			out = append(out, models.InlineKeyboardButton{Text: b.Label, CallbackData: b.Data})
		}
		if len(out) > 0 {
			kb = append(kb, out)
		}
	}
	if len(kb) == 0 {
		return nil
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: kb}
}

// utf16Len is the length of s as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// splitText cuts s into parts of at most max UTF-16 units, at a line break
// or a space when it can; the break itself is dropped. With rtl, a part after the first that would not start
// right-to-left gets an RLM, so Telegram lays it out as Hebrew.
func splitText(s string, max int, rtl bool) []string {
	if utf16Len(s) <= max {
		return []string{s}
	}
	var parts []string
	for s != "" {
		limit := max
		if rtl && len(parts) > 0 {
			limit-- // room for the RLM
		}
		if utf16Len(s) <= limit {
			parts = append(parts, s)
			break
		}
		cut, next := cutPoint(s, limit)
		if strings.TrimSpace(s[:cut]) != "" {
			parts = append(parts, s[:cut])
		}
		s = s[next:]
		if strings.TrimSpace(s) == "" {
			break
		}
	}
	if rtl {
		for i := 1; i < len(parts); i++ {
			if !startsRTL(parts[i]) {
				parts[i] = rlm + parts[i]
			}
		}
	}
	return parts
}

// cutPoint returns where the first part of s ends (cut) and the rest begins
// (next), the part holding at most limit UTF-16 units.
func cutPoint(s string, limit int) (cut, next int) {
	end, units := 0, 0
	for i, r := range s {
		u := 1
		if r >= 0x10000 {
			u = 2
		}
		if units+u > limit {
			end = i
			break
		}
		units += u
	}
	head := s[:end]
	// A line break in the second half, else a space there, else either
	// anywhere: a short part beats a word cut in two.
	nl := strings.LastIndexByte(head, '\n')
	sp := strings.LastIndexFunc(head, unicode.IsSpace)
	for _, i := range []int{nl, sp} {
		if i > 0 && i >= end/2 {
			_, size := utf8.DecodeRuneInString(s[i:])
			return i, i + size
		}
	}
	if i := max(nl, sp); i > 0 {
		_, size := utf8.DecodeRuneInString(s[i:])
		return i, i + size
	}
	// No break: cut between runes, but not inside an emoji sequence or
	// before a combining mark.
	for back := 0; back < 16 && end > 0; back++ {
		r, _ := utf8.DecodeRuneInString(s[end:])
		prev, _ := utf8.DecodeLastRuneInString(s[:end])
		if !joins(r) && prev != '\u200d' {
			break
		}
		_, size := utf8.DecodeLastRuneInString(s[:end])
		end -= size
	}
	if end == 0 { // pathological: one endless sequence
		end = len(head)
	}
	return end, end
}

// joins reports a rune that belongs to the rune before it.
func joins(r rune) bool {
	return r == '\u200d' || r == '\ufe0e' || r == '\ufe0f' || r == '\u20e3' ||
		(r >= 0x1f3fb && r <= 0x1f3ff) || (r >= 0xe0020 && r <= 0xe007f) ||
		unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r)
}

// startsRTL reports whether s's first strong character is right-to-left
// (or an RLM), so a Telegram client lays it out right-to-left.
func startsRTL(s string) bool {
	for _, r := range s {
		switch {
		case r == '\u200f' || unicode.Is(unicode.Hebrew, r) || unicode.Is(unicode.Arabic, r):
			return true
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\u2068':
			return false
		}
	}
	return true
}
