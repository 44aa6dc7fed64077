package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"supportbot/bot"
	"supportbot/portal"
)

// quickTimeout bounds the work done before an ack (portal call, engine
// commit), so Slack's 3 s limit holds.
const quickTimeout = 2 * time.Second

// Events the adapter hands to the customer's conversation.
const (
	evClaimed = "ticket.claimed"
	evReply   = "ticket.reply"
	evClosed  = "ticket.closed"
)

// response is how one Slack request is answered: body is the ack's JSON
// payload (nil: empty), after the slow work that follows the ack.
type response struct {
	body  any
	key   string // orders after-work per ticket
	after func(ctx context.Context)
}

// eventCallback is the part of an Events API request the adapter reads.
type eventCallback struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	EventID   string `json:"event_id"`
	// Authorizations name the installation the event is for; an is_bot
	// one carries the bot's own user ID.
	Authorizations []struct {
		UserID string `json:"user_id"`
		IsBot  bool   `json:"is_bot"`
	} `json:"authorizations"`
	Event struct {
		Type       string          `json:"type"`
		Subtype    string          `json:"subtype"`
		User       string          `json:"user"`
		BotID      string          `json:"bot_id"`
		BotProfile json.RawMessage `json:"bot_profile"`
		Text       string          `json:"text"`
		Channel    string          `json:"channel"`
		TS         string          `json:"ts"`
		ThreadTS   string          `json:"thread_ts"`
	} `json:"event"`
}

// fromBot reports a message the bot (or any bot) wrote: never a staff
// reply, whatever its text.
func (a *Adapter) fromBot(cb eventCallback) bool {
	m := cb.Event
	if m.BotID != "" || m.Subtype == "bot_message" || a.isSelf(m.User) {
		return true
	}
	if p := strings.TrimSpace(string(m.BotProfile)); p != "" && p != "null" {
		return true
	}
	for _, au := range cb.Authorizations {
		if au.IsBot && au.UserID != "" && au.UserID == m.User {
			return true
		}
	}
	return false
}

// onEvent handles an Events API callback; id is its delivery id for the
// seen set (the event_id).
func (a *Adapter) onEvent(ctx context.Context, cb eventCallback, id string) response {
	m := cb.Event
	for _, au := range cb.Authorizations {
		if au.IsBot {
			a.setSelf(au.UserID)
		}
	}
	if cb.Type != "event_callback" || m.Type != "message" || m.Subtype != "" || a.fromBot(cb) ||
		m.User == "" || m.ThreadTS == "" || m.ThreadTS == m.TS {
		return response{}
	}
	text := strings.TrimSpace(m.Text)
	if !strings.HasPrefix(text, a.cfg.Prefix) {
		return response{} // internal thread talk
	}
	ticket, ok, err := a.ticketOfThread(ctx, m.Channel, m.ThreadTS)
	if err != nil {
		a.log.Error("read thread index", "err", err)
		return response{}
	}
	if !ok {
		return response{}
	}
	ok, done := a.begin(ctx, id)
	if !ok {
		return response{}
	}
	applied := true
	defer func() { done(applied) }()
	ephemeral := func(msg string) response {
		return response{key: ticket, after: func(ctx context.Context) {
			a.ephemeral(ctx, m.Channel, m.User, m.ThreadTS, msg)
		}}
	}
	if !a.isStaff(m.User) {
		return ephemeral(a.text("staff.refuse", nil))
	}
	body := strings.TrimSpace(strings.TrimPrefix(text, a.cfg.Prefix))
	if body == "" {
		return response{}
	}
	if err := a.reply(ctx, ticket, m.User, "", body, "event:"+firstNonEmpty(cb.EventID, id)); err != nil {
		applied = errors.Is(err, portal.ErrConflict)
		return ephemeral(a.replyError(ticket, err))
	}
	return response{}
}

// replyError is what staff see when a reply did not go out.
func (a *Adapter) replyError(ticket string, err error) string {
	if errors.Is(err, portal.ErrConflict) {
		return a.text("staff.ticket_closed", map[string]any{"Ticket": ticket})
	}
	a.log.Error("staff reply", "ticket", ticket, "err", err)
	return a.text("staff.error", nil)
}

// reply sends staff's reply to the customer: the portal records it, then
// the engine tells the customer. stable identifies the Slack action.
func (a *Adapter) reply(ctx context.Context, ticket, user, fallback, body, stable string) error {
	l, ok, err := a.loadLink(ctx, ticket)
	if err != nil {
		return err
	}
	if !ok || l.Chat == "" {
		return fmt.Errorf("ticket %s has no link", ticket)
	}
	author := a.firstName(ctx, user, fallback)
	if _, err := a.cfg.Portal.StaffReply(portal.WithIdempotencyKey(ctx, "slack:"+stable), ticket, author, body); err != nil {
		return fmt.Errorf("portal reply %s: %w", ticket, err)
	}
	return a.tell(ctx, l.Chat, stable, evReply, map[string]string{"ticket": ticket, "author": author, "text": body})
}

// tell hands an event for the customer to the engine and delivers what
// it commits.
func (a *Adapter) tell(ctx context.Context, chat, stable, event string, vars map[string]string) error {
	envs, err := a.cfg.Engine.Handle(ctx, bot.Inbound{Key: chat, UpdateID: UpdateID(stable), Event: event, Vars: vars})
	if err != nil {
		return fmt.Errorf("engine %s: %w", event, err)
	}
	if len(envs) > 0 {
		a.cfg.Deliver(envs...)
	}
	return nil
}

// onInteraction handles a block action or a view submission; id is the
// delivery id for the seen set ("" to derive it from the payload).
func (a *Adapter) onInteraction(ctx context.Context, cb slack.InteractionCallback, id string) response {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		for _, act := range cb.ActionCallback.BlockActions {
			if act == nil {
				continue
			}
			switch act.ActionID {
			case actionClaim, actionReply, actionClose:
				return a.onButton(ctx, cb, act, id)
			}
		}
	case slack.InteractionTypeViewSubmission:
		switch cb.View.CallbackID {
		case viewReply, viewClose:
			return a.onSubmit(ctx, cb, id)
		}
	}
	return response{}
}

// onButton handles Claim, Reply and Close.
func (a *Adapter) onButton(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, id string) response {
	ticket := act.Value
	stable := firstNonEmpty(act.ActionTs, cb.ActionTs) + ":" + cb.User.ID
	ok, done := a.begin(ctx, firstNonEmpty(id, stable))
	if !ok {
		return response{}
	}
	applied := true
	defer func() { done(applied) }()
	channel := firstNonEmpty(cb.Container.ChannelID, cb.Channel.ID)
	ephemeral := func(msg string) response {
		return response{key: ticket, after: func(ctx context.Context) { a.ephemeral(ctx, channel, cb.User.ID, "", msg) }}
	}
	if !a.isStaff(cb.User.ID) {
		return ephemeral(a.text("staff.refuse", nil))
	}
	l, ok, err := a.loadLink(ctx, ticket)
	if err != nil || !ok {
		if err != nil {
			a.log.Error("read link", "ticket", ticket, "err", err)
		}
		applied = false
		return ephemeral(a.text("staff.error", nil))
	}
	switch act.ActionID {
	case actionReply, actionClose:
		if l.Status == statusClosed {
			return ephemeral(a.text("staff.ticket_closed", map[string]any{"Ticket": ticket}))
		}
		view := a.replyModal(ticket)
		if act.ActionID == actionClose {
			view = a.closeModal(ticket)
		}
		trigger := cb.TriggerID
		// The trigger expires in 3 s: open the modal right after the ack.
		return response{after: func(ctx context.Context) {
			if _, err := a.api.OpenViewContext(ctx, trigger, view); err != nil {
				a.log.Error("views.open", "ticket", ticket, "err", err)
				a.ephemeral(ctx, channel, cb.User.ID, "", a.text("staff.error", nil))
			}
		}}
	}
	// Claim.
	if l.Status == statusClosed {
		return ephemeral(a.text("staff.ticket_closed", map[string]any{"Ticket": ticket}))
	}
	author := a.firstName(ctx, cb.User.ID, firstNonEmpty(cb.User.Name, cb.User.Username))
	if _, err := a.cfg.Portal.StaffAssign(ctx, ticket, author); err != nil {
		applied = false
		a.log.Error("portal assign", "ticket", ticket, "err", err)
		return ephemeral(a.text("staff.error", nil))
	}
	l, err = a.updateLink(ctx, ticket, func(l *link) { l.Assignee, l.AssigneeName = cb.User.ID, author })
	if err != nil {
		a.log.Error("save link", "ticket", ticket, "err", err)
	}
	if err := a.tell(ctx, l.Chat, stable, evClaimed, map[string]string{"ticket": ticket, "author": author}); err != nil {
		applied = false
		a.log.Error("tell customer", "ticket", ticket, "err", err)
		return ephemeral(a.text("staff.error", nil))
	}
	user := cb.User.ID
	return response{key: ticket, after: func(ctx context.Context) {
		a.redraw(ctx, ticket)
		a.note(ctx, l, a.text("staff.thread.claimed", map[string]any{"User": "<@" + user + ">"}))
	}}
}

// onSubmit handles the Reply and Close modals.
func (a *Adapter) onSubmit(ctx context.Context, cb slack.InteractionCallback, id string) response {
	ticket := cb.View.PrivateMetadata
	stable := cb.View.ID + ":submit"
	ok, done := a.begin(ctx, firstNonEmpty(id, stable))
	if !ok {
		return response{}
	}
	applied := true
	defer func() { done(applied) }()
	l, found, err := a.loadLink(ctx, ticket)
	if err != nil {
		a.log.Error("read link", "ticket", ticket, "err", err)
	}
	user := cb.User.ID
	ephemeral := func(msg string) response {
		return response{key: ticket, after: func(ctx context.Context) { a.ephemeral(ctx, l.Channel, user, l.TS, msg) }}
	}
	if !a.isStaff(user) {
		return ephemeral(a.text("staff.refuse", nil))
	}
	if !found {
		applied = false
		return ephemeral(a.text("staff.error", nil))
	}
	value := func(block string) string {
		return strings.TrimSpace(cb.View.State.Values[block][inputText].Value)
	}
	if cb.View.CallbackID == viewReply {
		body := value(blockReply)
		if body == "" {
			return response{}
		}
		if err := a.reply(ctx, ticket, user, firstNonEmpty(cb.User.Name, cb.User.Username), body, stable); err != nil {
			applied = errors.Is(err, portal.ErrConflict)
			return ephemeral(a.replyError(ticket, err))
		}
		return response{key: ticket, after: func(ctx context.Context) {
			a.note(ctx, l, a.text("staff.thread.sent", map[string]any{"User": "<@" + user + ">", "Text": quote(escape(body))}))
		}}
	}
	note := value(blockNote)
	author := a.firstName(ctx, user, firstNonEmpty(cb.User.Name, cb.User.Username))
	if _, err := a.cfg.Portal.StaffClose(portal.WithIdempotencyKey(ctx, "slack:"+stable), ticket, author, note); err != nil {
		applied = false
		a.log.Error("portal close", "ticket", ticket, "err", err)
		return ephemeral(a.text("staff.error", nil))
	}
	if _, err := a.updateLink(ctx, ticket, func(l *link) { l.Status, l.ClosedBy = statusClosed, user }); err != nil {
		a.log.Error("save link", "ticket", ticket, "err", err)
	}
	if err := a.tell(ctx, l.Chat, stable, evClosed, map[string]string{"ticket": ticket, "author": author, "note": note, "email": l.Email}); err != nil {
		applied = false
		a.log.Error("tell customer", "ticket", ticket, "err", err)
		return ephemeral(a.text("staff.error", nil))
	}
	msg := a.text("staff.thread.closed", map[string]any{"User": "<@" + user + ">"})
	if note != "" {
		msg += "\n" + quote(escape(note))
	}
	return response{key: ticket, after: func(ctx context.Context) {
		a.redraw(ctx, ticket)
		a.note(ctx, l, msg)
	}}
}

// onCommand answers /customer.
func (a *Adapter) onCommand(ctx context.Context, cmd slack.SlashCommand) response {
	if !a.isStaff(cmd.UserID) {
		return response{body: ephemeralBody(a.text("staff.refuse", nil), nil)}
	}
	text, blocks := a.customerAnswer(ctx, cmd.Text)
	return response{body: ephemeralBody(text, blocks)}
}

func ephemeralBody(text string, blocks []slack.Block) map[string]any {
	b := map[string]any{"response_type": "ephemeral", "text": text}
	if len(blocks) > 0 {
		b["blocks"] = blocks
	}
	return b
}

// replyModal is the Reply modal for ticket.
func (a *Adapter) replyModal(ticket string) slack.ModalViewRequest {
	in := slack.NewPlainTextInputBlockElement(nil, inputText)
	in.Multiline = true
	block := slack.NewInputBlock(blockReply, a.plain("staff.modal.reply.label"), nil, in)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      viewReply,
		PrivateMetadata: ticket,
		Title:           a.plain("staff.modal.reply.title"),
		Submit:          a.plain("staff.modal.reply.submit"),
		Close:           a.plain("staff.modal.cancel"),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{block}},
	}
}

// closeModal is the Close modal for ticket, with an optional note.
func (a *Adapter) closeModal(ticket string) slack.ModalViewRequest {
	in := slack.NewPlainTextInputBlockElement(nil, inputText)
	in.Multiline = true
	block := slack.NewInputBlock(blockNote, a.plain("staff.modal.close.label"), nil, in)
	block.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      viewClose,
		PrivateMetadata: ticket,
		Title:           a.plain("staff.modal.close.title"),
		Submit:          a.plain("staff.modal.close.submit"),
		Close:           a.plain("staff.modal.cancel"),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{block}},
	}
}

func (a *Adapter) plain(id string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, clip(a.text(id, nil), 24), false, false)
}

// ephemeral shows msg to user only.
func (a *Adapter) ephemeral(ctx context.Context, channel, user, threadTS, msg string) {
	if channel == "" || user == "" {
		return
	}
	opts := []slack.MsgOption{slack.MsgOptionText(msg, false)}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	if _, err := a.api.PostEphemeralContext(ctx, channel, user, opts...); err != nil {
		a.log.Warn("chat.postEphemeral", "err", err)
	}
}

// note posts a staff-side note in a ticket's thread.
func (a *Adapter) note(ctx context.Context, l link, msg string) {
	if l.Channel == "" || l.TS == "" {
		return
	}
	if _, _, err := a.api.PostMessageContext(ctx, l.Channel, slack.MsgOptionText(msg, false), slack.MsgOptionTS(l.TS)); err != nil {
		a.log.Warn("thread note", "ticket", l.Ticket, "err", err)
	}
}

// redraw updates a ticket's root message from its link (claimed, closed).
func (a *Adapter) redraw(ctx context.Context, ticket string) {
	l, ok, err := a.loadLink(ctx, ticket)
	if err != nil || !ok || l.TS == "" {
		return
	}
	text, blocks := a.rootMessage(l)
	if _, _, _, err := a.api.UpdateMessageContext(ctx, l.Channel, l.TS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		a.log.Warn("chat.update", "ticket", ticket, "err", err)
	}
}

// decodeInteraction reads an interaction payload.
func decodeInteraction(raw []byte) (slack.InteractionCallback, error) {
	var cb slack.InteractionCallback
	err := json.Unmarshal(raw, &cb)
	return cb, err
}
