package flows

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"supportbot/bot"
	"supportbot/portal"
)

// The ticket journeys: Contact support (/ticket), My tickets (/tickets) and
// Talk to a person (/human, a live chat with staff relayed through the
// staff channel), and the screens that show a staff reply, a claim or a
// close to a customer who is not in a live chat.

// Signals are the staff side's news for a customer (bot.Inbound.Event),
// with the vars "ticket", "author" and "text" (a reply) or "note" (a
// close; "email" too for a guest's ticket).
const (
	SignalReply   = "ticket.reply"
	SignalClaimed = "ticket.claimed"
	SignalClosed  = "ticket.closed"
)

// Staff events are what the journeys send to a ticket's staff thread
// (Reply.Vars["event"]), addressed "<StaffChannel>:<ticket id>".
const (
	StaffNew     = "ticket.new"
	StaffMessage = "ticket.message"
	StaffLive    = "ticket.live"
	StaffLeft    = "ticket.left"
	StaffRating  = "ticket.rating"
)

// StaffChannel is the channel that carries tickets to staff (Slack).
const StaffChannel = "slack"

// Signals names the flow that shows each staff event to a customer who is
// not in a live chat (bot.Config.Signals).
var Signals = map[string]string{SignalReply: TicketReply, SignalClaimed: TicketClaimed, SignalClosed: TicketClosed}

// Vars of the ticket journeys.
const (
	varDept    = "department"
	varSubject = "subject"
	varBody    = "body"
	varPart    = "part"
	varTicket  = "ticket"
	varRating  = "rating"
	varStatus  = "status"
)

// Events of the ticket journeys.
const (
	evHasName = "has_name" // the platform gave the guest's name
	evDone    = "done"     // the description is complete
	evChat    = "chat"     // staff answer in this chat
	evByEmail = "by_email" // staff answer by email (no staff channel)
	evReuse   = "reuse"    // an open ticket goes live again
	evNew     = "new"      // no open ticket: open one
	evLeave   = "leave"    // the customer leaves the live chat
	evClosed  = "closed"   // the ticket was closed
	evAdd     = "add"      // add a message to the ticket
	evLive    = "live"     // talk about the ticket live
	evStaff   = "staff"    // an open ticket, staff on chat
)

// Ticket text limits, the portal's.
const (
	maxSubject = 120
	maxBody    = 4000
)

// deptPrefix marks a department handed to /human by a dead-end button
// ("/human dept:shipping"); nobody types it.
const deptPrefix = "dept:"

// support: Contact support. Department (each with what it handles),
// subject, a description in as many messages as the customer likes, a
// review, then the ticket number.
func (k *kit) support() bot.Flow {
	states := []bot.State{
		{Name: "start", Prompt: "support.start.prompt", Enter: k.memberOrGuest,
			Buttons: []bot.Btn{{Label: "order.btn.login", Event: evLogin}, {Label: "order.btn.guest", Event: evGuest}},
			On:      bot.On{evMember: "dept", evLogin: "member", evGuest: "ask_email"}},
		{Name: "member", Auth: true, Enter: next, On: bot.On{bot.EventNext: "dept"}},
	}
	states = append(states, guestContact("dept")...)
	states = append(states,
		bot.State{Name: "dept", Prompt: "support.dept.prompt", Enter: k.listDepartments, Input: bot.List{Var: varDept},
			On: bot.On{bot.EventNext: "subject", evOne: "subject"}},
		bot.State{Name: "subject", Prompt: "support.subject.prompt", Input: bot.Text{Check: subject, Var: varSubject},
			On: bot.On{bot.EventNext: "body"}},
		bot.State{Name: "body", Prompt: "support.body.prompt", Input: bot.Text{Check: bodyText, Var: varBody},
			On: bot.On{bot.EventNext: "body_more"}},
		// Each further message is added to the description until Done.
		bot.State{Name: "body_more", Prompt: "support.body_more.prompt", Enter: appendBody, Input: bot.Text{Check: bodyText, Var: varPart},
			Buttons: []bot.Btn{{Label: "support.btn.done", Event: evDone}},
			On:      bot.On{bot.EventNext: "body_more", evDone: "review"}},
		bot.State{Name: "review", Prompt: "support.review.prompt", Enter: k.reviewTicket, Input: bot.Review{Save: "support.btn.send", Fields: []bot.Field{
			{Label: "support.btn.fix_dept", State: "dept"}, {Label: "support.btn.fix_subject", State: "subject"}, {Label: "support.btn.fix_body", State: "body"}}},
			On: bot.On{bot.EventNext: "create"}},
		bot.State{Name: "create", Enter: k.createTicket, On: bot.On{evChat: "done_chat", evByEmail: "done_email", bot.EventFail: "review"}},
		bot.State{Name: "done_chat", Prompt: "support.done_chat.prompt", Input: bot.End{}},
		bot.State{Name: "done_email", Prompt: "support.done_email.prompt", Input: bot.End{}},
	)
	return bot.Flow{
		Name: Ticket, Start: "start", Title: "support.title", Command: "ticket", Menu: bot.MenuAlways, Support: true,
		Phrases: []string{"contact support", "open a ticket", "support ticket", "complaint", "problem", "פתיחת פנייה", "פנייה חדשה", "תלונה", "בעיה"},
		Events:  []string{evMember, evLogin, evGuest, evHasName, evOne, evDone, evChat, evByEmail},
		States:  states,
	}
}

// guestContact asks a guest for the email staff answer to, and a name
// unless the platform gave one, then goes to next.
func guestContact(next string) []bot.State {
	return []bot.State{
		{Name: "ask_email", Prompt: "support.ask_email.prompt", Enter: knownEmail, Input: bot.Text{Check: email, Var: varEmail},
			On: bot.On{bot.EventNext: "ask_name"}},
		{Name: "ask_name", Prompt: "support.ask_name.prompt", Enter: platformName, Input: bot.Text{Check: personName, Var: varName},
			On: bot.On{bot.EventNext: next, evHasName: next}},
	}
}

// knownEmail skips the email question once when the journey that handed
// over already has the guest's email (an order they looked up); /back
// still reaches it.
func knownEmail(_ context.Context, t *bot.Turn) (string, error) {
	if t.Var(varEmail) != "" && !t.Has("_email_asked") {
		t.Set("_email_asked", "1")
		return bot.EventNext, nil
	}
	t.Set("_email_asked", "1")
	return "", nil
}

// next moves on at once (a step that only needs its Auth).
func next(context.Context, *bot.Turn) (string, error) { return bot.EventNext, nil }

func platformName(_ context.Context, t *bot.Turn) (string, error) {
	if t.Var(varName) == "" {
		if n, problem := personName(t.PlatformName()); problem == "" {
			t.Set(varName, n)
		}
	}
	if t.Var(varName) != "" {
		return evHasName, nil
	}
	return "", nil
}

func subject(s string) (string, string) {
	s = strings.Join(strings.Fields(s), " ")
	switch {
	case s == "":
		return "", "support.subject.empty"
	case utf8.RuneCountInString(s) > maxSubject:
		return "", "support.subject.too_long"
	}
	return s, ""
}

func bodyText(s string) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "support.body.empty"
	case utf8.RuneCountInString(s) > maxBody:
		return "", "support.body.too_long"
	}
	return s, ""
}

// appendBody adds the message just typed to the description, unless that
// would make it longer than the portal takes.
func appendBody(_ context.Context, t *bot.Turn) (string, error) {
	part := t.Var(varPart)
	if part == "" {
		return "", nil
	}
	t.Set(varPart, "")
	body := t.Var(varBody) + "\n\n" + part
	if utf8.RuneCountInString(body) > maxBody {
		t.Say("support.body.too_long", nil)
		return "", nil
	}
	t.Set(varBody, body)
	return "", nil
}

// departments fetches the portal's departments once per update.
func (k *kit) departments(ctx context.Context, t *bot.Turn) ([]portal.Department, error) {
	if v, ok := t.Cached("departments"); ok {
		return v.([]portal.Department), nil
	}
	ds, err := k.p.Departments(ctx)
	if err != nil {
		return nil, fail(err)
	}
	t.Cache("departments", ds)
	return ds, nil
}

// listDepartments offers the departments, each with a line on what it
// handles; one handed over already (a dead end's button) is not asked.
func (k *kit) listDepartments(ctx context.Context, t *bot.Turn) (string, error) {
	ds, err := k.departments(ctx, t)
	if err != nil {
		return "", err
	}
	if id := t.Var(varDept); id != "" && !t.Has("_dept_asked") {
		for _, d := range ds {
			if d.ID == id {
				return evOne, nil
			}
		}
	}
	t.Set("_dept_asked", "1")
	var lines []string
	for _, d := range ds {
		label := d.Label(portal.Lang(t.Lang))
		t.Options = append(t.Options, bot.Option{Value: d.ID, Label: label})
		lines = append(lines, t.T("support.dept.line", map[string]any{"Name": label, "About": d.Description(portal.Lang(t.Lang))}))
	}
	t.Data = map[string]any{"Departments": strings.Join(lines, "\n")}
	return "", nil
}

// deptLabel is a department's name in the customer's language.
func (k *kit) deptLabel(ctx context.Context, t *bot.Turn, id string) string {
	ds, err := k.departments(ctx, t)
	if err == nil {
		for _, d := range ds {
			if d.ID == id {
				return d.Label(portal.Lang(t.Lang))
			}
		}
	}
	return id
}

func (k *kit) reviewTicket(ctx context.Context, t *bot.Turn) (string, error) {
	t.Data = map[string]any{"Department": k.deptLabel(ctx, t, t.Var(varDept))}
	return "", nil
}

// contact is who the ticket is from: the logged-in customer, or the guest's
// answers.
func contact(t *bot.Turn) (name, mail string) {
	if t.LoggedIn() {
		return t.Session.Customer, t.Session.Email
	}
	return t.Var(varName), t.Var(varEmail)
}

// open creates the ticket in the portal, as the logged-in customer or as a
// guest, and, when staff are on chat, sends it to the staff channel.
func (k *kit) open(ctx context.Context, t *bot.Turn, subj, body string, live bool) (portal.Ticket, error) {
	var tk portal.Ticket
	var err error
	if t.LoggedIn() {
		tk, err = k.p.CreateTicket(write(ctx, t), t.Session.Token, portal.NewTicket{
			Department: t.Var(varDept), Subject: subj, Body: body, OrderID: t.Var(varOrder), PlanID: t.Var(varPlan)})
	} else {
		name, mail := contact(t)
		tk, err = k.p.CreateGuestTicket(write(ctx, t), portal.GuestTicket{
			Email: mail, Name: name, Department: t.Var(varDept), Subject: subj, Body: body})
	}
	if err != nil {
		return tk, fail(err)
	}
	t.Set(varTicket, tk.ID)
	t.Log().Info("ticket opened", "ticket", tk.ID, "department", tk.Department, "live", live)
	if k.staff {
		vars := staffVars(t, tk.ID, StaffNew)
		vars["subject"] = tk.Subject
		if live {
			vars["live"] = "1"
		}
		if o := t.Var(varOrder); o != "" {
			vars["order"] = o
		}
		t.Send(StaffChannel+":"+tk.ID, body, vars)
	}
	return tk, nil
}

// staffVars are the values every message to a ticket's staff thread
// carries: who, in which language, which chat to answer.
func staffVars(t *bot.Turn, ticket, event string) map[string]string {
	name, mail := contact(t)
	return map[string]string{
		"event": event, "ticket": ticket, "chat": t.Key(), "lang": t.Lang,
		"name": name, "email": mail, "department": t.Var(varDept),
	}
}

func (k *kit) createTicket(ctx context.Context, t *bot.Turn) (string, error) {
	if _, err := k.open(ctx, t, t.Var(varSubject), t.Var(varBody), false); err != nil {
		return "", err
	}
	if _, mail := contact(t); mail != "" {
		t.Set(varEmail, mail) // the address staff answer to, for the next screen
	}
	if k.staff {
		return evChat, nil
	}
	return evByEmail, nil
}

// human: Talk to a person. Reuses the customer's open ticket (in the
// department a dead end named, if any) or opens one with their first
// message, then relays the chat both ways until staff close the ticket or
// the customer leaves; then asks for a rating. Without a staff channel the
// customer is taken to Contact support: staff answer by email.
func (k *kit) human() bot.Flow {
	states := []bot.State{
		{Name: "start", Prompt: "human.start.prompt", Enter: k.humanStart,
			Buttons: []bot.Btn{{Label: "order.btn.login", Event: evLogin}, {Label: "order.btn.guest", Event: evGuest}},
			On:      bot.On{evMember: "find", evLogin: "find", evGuest: "ask_email"}},
		{Name: "find", Auth: true, Enter: k.findOpen, On: bot.On{evReuse: "reuse", evNew: "dept"}},
	}
	states = append(states, guestContact("dept")...)
	states = append(states,
		bot.State{Name: "dept", Prompt: "support.dept.prompt", Enter: k.listDepartments, Input: bot.List{Var: varDept},
			On: bot.On{bot.EventNext: "message", evOne: "message"}},
		bot.State{Name: "message", Prompt: "human.message.prompt", Input: bot.Text{Check: bodyText, Var: varBody},
			On: bot.On{bot.EventNext: "open"}},
		bot.State{Name: "open", Enter: k.openLive, On: bot.On{bot.EventNext: "live"}},
		bot.State{Name: "reuse", Enter: reuseLive, On: bot.On{bot.EventNext: "live"}},
		bot.State{Name: "live", Prompt: "human.live.prompt", Input: bot.Relay{Pass: k.pass},
			Buttons: []bot.Btn{{Label: "human.btn.leave", Event: evLeave}},
			On:      bot.On{evLeave: "left", evClosed: "rate"}},
		bot.State{Name: "left", Prompt: "human.left.prompt", Enter: leftLive, Input: bot.End{}},
	)
	states = append(states, k.rating()...)
	return bot.Flow{
		Name: Human, Start: "start", Title: "human.title", Command: "human", Menu: bot.MenuAlways, Support: true,
		Shortcut: &bot.Shortcut{Check: deptArg, Var: varDept, State: "start"},
		Phrases: []string{"talk to a person", "human", "agent", "representative", "real person", "live chat",
			"שיחה עם נציג", "נציג", "נציגה", "בן אדם", "שירות לקוחות"},
		Events: []string{evMember, evLogin, evGuest, evHasName, evOne, evReuse, evNew, evLeave, evClosed},
		States: states,
		Signals: map[string]bot.Signal{
			SignalReply:   liveReply,
			SignalClaimed: liveClaimed,
			SignalClosed:  liveClosed,
		},
		Leave: func(t *bot.Turn) {
			t.Send(StaffChannel+":"+t.Var(varTicket), "", staffVars(t, t.Var(varTicket), StaffLeft))
			t.Say("human.left.prompt", map[string]any{"ticket": t.Var(varTicket)})
		},
	}
}

// deptArg takes the department a dead end hands over ("dept:shipping").
func deptArg(s string) (string, string) {
	if id, ok := strings.CutPrefix(s, deptPrefix); ok && id != "" && !strings.ContainsAny(id, " |:") {
		return id, ""
	}
	return "", "common.unknown"
}

func (k *kit) humanStart(_ context.Context, t *bot.Turn) (string, error) {
	if !k.staff {
		// No live chat: staff answer tickets by email.
		t.Say("human.no_live", nil)
		t.Jump(Ticket, map[string]string{varDept: t.Var(varDept)})
		return "", nil
	}
	if t.LoggedIn() || t.Var(varTicket) != "" {
		return evMember, nil
	}
	return "", nil
}

// findOpen picks the customer's newest open ticket — in the department a
// dead end named, if it did — or, with none, opens a new one.
func (k *kit) findOpen(ctx context.Context, t *bot.Turn) (string, error) {
	if t.Var(varTicket) != "" { // My tickets handed one over
		return evReuse, nil
	}
	ts, err := k.p.Tickets(ctx, t.Session.Token)
	if err != nil {
		return "", fail(err)
	}
	for _, tk := range ts { // newest first
		if tk.Status == portal.TicketClosed || (t.Var(varDept) != "" && tk.Department != t.Var(varDept)) {
			continue
		}
		t.Set(varTicket, tk.ID)
		t.Set(varDept, tk.Department)
		t.Set(varSubject, tk.Subject)
		return evReuse, nil
	}
	return evNew, nil
}

// openLive opens a ticket with the customer's first message.
func (k *kit) openLive(ctx context.Context, t *bot.Turn) (string, error) {
	body := t.Var(varBody)
	subj := strings.SplitN(body, "\n", 2)[0]
	if r := []rune(subj); len(r) > 80 {
		subj = string(r[:79]) + "…"
	}
	if _, err := k.open(ctx, t, subj, body, true); err != nil {
		return "", err
	}
	return bot.EventNext, nil
}

// reuseLive tells the staff thread the customer is waiting live.
func reuseLive(_ context.Context, t *bot.Turn) (string, error) {
	t.Send(StaffChannel+":"+t.Var(varTicket), "", staffVars(t, t.Var(varTicket), StaffLive))
	return bot.EventNext, nil
}

func leftLive(_ context.Context, t *bot.Turn) (string, error) {
	t.Send(StaffChannel+":"+t.Var(varTicket), "", staffVars(t, t.Var(varTicket), StaffLeft))
	return "", nil
}

// pass adds what the customer wrote to the ticket and sends it to the
// staff thread, both with this update.
func (k *kit) pass(ctx context.Context, t *bot.Turn, text string) error {
	id := t.Var(varTicket)
	if utf8.RuneCountInString(text) > maxBody {
		return &bot.UserError{MsgID: "support.body.too_long"}
	}
	wctx := portal.WithIdempotencyKey(ctx, t.UpdateKey())
	var err error
	if t.LoggedIn() {
		_, err = k.p.AddTicketMessage(wctx, t.Session.Token, id, text)
	} else {
		_, err = k.p.AddGuestTicketMessage(wctx, id, t.Var(varEmail), text)
	}
	switch {
	case errors.Is(err, portal.ErrConflict):
		return &bot.UserError{MsgID: "human.closed_already", Data: map[string]any{"Ticket": id}, Err: err}
	case err != nil:
		return fail(err)
	}
	t.Send(StaffChannel+":"+id, text, staffVars(t, id, StaffMessage))
	return nil
}

// liveReply shows a staff reply in the live chat; a reply on another of
// the customer's tickets says which.
func liveReply(_ context.Context, t *bot.Turn, v map[string]string) (string, error) {
	data := map[string]any{"Author": v["author"], "Text": v["text"], "Ticket": v["ticket"]}
	if v["ticket"] != t.Var(varTicket) {
		t.Tell("ticket_reply.show.prompt", map[string]any{"author": v["author"], "text": v["text"], "ticket": v["ticket"]})
		return "", nil
	}
	t.Tell("human.reply", data)
	return "", nil
}

func liveClaimed(_ context.Context, t *bot.Turn, v map[string]string) (string, error) {
	if v["ticket"] == t.Var(varTicket) {
		t.Tell("human.claimed", map[string]any{"Author": v["author"]})
	}
	return "", nil
}

// liveClosed ends the live chat when its ticket is closed, and asks for
// a rating.
func liveClosed(_ context.Context, t *bot.Turn, v map[string]string) (string, error) {
	if v["ticket"] != t.Var(varTicket) {
		t.Tell("ticket_closed.note", map[string]any{"Ticket": v["ticket"]})
		return "", nil
	}
	t.Set("note", v["note"])
	t.Set("author", v["author"])
	return evClosed, nil
}

// rating: 1–5 stars for a closed ticket, then thanks.
func (k *kit) rating() []bot.State {
	return []bot.State{
		{Name: "rate", Prompt: "support.rate.prompt", Enter: rateOptions, Input: bot.List{Var: varRating}, Fresh: true,
			On: bot.On{bot.EventNext: "rated"}},
		{Name: "rated", Enter: k.saveRating, On: bot.On{bot.EventNext: "thanks"}},
		{Name: "thanks", Prompt: "support.thanks.prompt", Input: bot.End{}},
	}
}

func rateOptions(_ context.Context, t *bot.Turn) (string, error) {
	for n := portal.MaxRating; n >= portal.MinRating; n-- {
		t.Options = append(t.Options, bot.Option{Value: strconv.Itoa(n), Label: strings.Repeat("⭐", n)})
	}
	return "", nil
}

// saveRating records the rating in the portal and posts it to the staff
// thread.
func (k *kit) saveRating(ctx context.Context, t *bot.Turn) (string, error) {
	n, err := strconv.Atoi(t.Var(varRating))
	if err != nil || n < portal.MinRating || n > portal.MaxRating {
		return "", &bot.UserError{MsgID: "common.stale"}
	}
	id := t.Var(varTicket)
	// Its own key: the flow's write key went to opening the ticket.
	wctx := portal.WithIdempotencyKey(ctx, t.UpdateKey())
	if t.Var(varEmail) != "" && !t.LoggedIn() {
		_, err = k.p.RateGuestTicket(wctx, id, t.Var(varEmail), n)
	} else {
		_, err = k.p.RateTicket(wctx, t.Session.Token, id, n)
	}
	if err != nil {
		return "", fail(err)
	}
	if k.staff {
		vars := staffVars(t, id, StaffRating)
		vars["rating"] = strconv.Itoa(n)
		t.Send(StaffChannel+":"+id, "", vars)
	}
	return bot.EventNext, nil
}

// myTickets: My tickets. The customer's tickets with status and last
// reply; one opened shows its conversation, and takes a new message (or,
// with staff on chat, goes live).
func (k *kit) myTickets() bot.Flow {
	return bot.Flow{
		Name: Tickets, Start: "list", Title: "tickets.title", Command: "tickets", Menu: bot.MenuMember,
		Phrases: []string{"my tickets", "ticket status", "הפניות שלי", "סטטוס פנייה"},
		Events:  []string{evEmpty, evClosed, evStaff, evAdd, evLive},
		States: []bot.State{
			{Name: "list", Prompt: "tickets.list.prompt", Auth: true, Enter: k.listTickets, Input: bot.List{Var: varTicket},
				On: bot.On{bot.EventNext: "view", evEmpty: "none"}},
			{Name: "none", Prompt: "tickets.none.prompt", Input: bot.End{}},
			{Name: "view", Prompt: "tickets.view.prompt", Enter: k.openTicket,
				Buttons: []bot.Btn{{Label: "tickets.btn.add", Event: evAdd}},
				On:      bot.On{evAdd: "add", evClosed: "view_closed", evStaff: "view_live"}},
			{Name: "view_live", Prompt: "tickets.view.prompt", Enter: k.showTicket,
				Buttons: []bot.Btn{{Label: "tickets.btn.add", Event: evAdd}, {Label: "tickets.btn.live", Event: evLive}},
				On:      bot.On{evAdd: "add", evLive: "go_live"}},
			{Name: "view_closed", Prompt: "tickets.view.prompt", Enter: k.showTicket, Input: bot.End{}},
			{Name: "add", Prompt: "tickets.add.prompt", Input: bot.Text{Check: bodyText, Var: varPart},
				On: bot.On{bot.EventNext: "send"}},
			{Name: "send", Enter: k.addMessage, On: bot.On{bot.EventNext: "view", evClosed: "view_closed"}},
			{Name: "go_live", Enter: goLive},
		},
	}
}

func (k *kit) listTickets(ctx context.Context, t *bot.Turn) (string, error) {
	ts, err := k.p.Tickets(ctx, t.Session.Token)
	if err != nil {
		return "", fail(err)
	}
	if len(ts) == 0 {
		return evEmpty, nil
	}
	pages := (len(ts) + t.PageSize() - 1) / t.PageSize()
	if t.Page() > pages {
		t.SetPage(pages)
	}
	from := (t.Page() - 1) * t.PageSize()
	page := ts[from:min(from+t.PageSize(), len(ts))]
	var lines []string
	for _, tk := range page {
		status := t.T("support.status."+string(tk.Status), nil)
		t.Options = append(t.Options, bot.Option{Value: tk.ID, Label: t.T("tickets.option", map[string]any{"ID": tk.ID, "Status": status})})
		line := t.T("tickets.line", map[string]any{"ID": tk.ID, "Subject": tk.Subject, "Status": status, "Date": t.Date(tk.UpdatedAt)})
		// The last reply needs the ticket itself: one call per ticket on
		// the page.
		if full, err := k.p.Ticket(ctx, t.Session.Token, tk.ID); err == nil && len(full.Messages) > 0 {
			line += "\n" + lastReply(t, full.Messages[len(full.Messages)-1])
		}
		lines = append(lines, line)
	}
	t.More = t.Page() < pages
	t.Data = map[string]any{"Tickets": strings.Join(lines, "\n\n"), "Total": t.N("tickets.count", len(ts), nil)}
	return "", nil
}

// lastReply is one line on a ticket's last message: who, when, its start.
func lastReply(t *bot.Turn, m portal.TicketMessage) string {
	who := t.T("tickets.from_you", nil)
	if m.From == portal.FromStaff {
		who = m.Author
		if who == "" {
			who = t.T("tickets.from_staff", nil)
		}
	}
	return t.T("tickets.last", map[string]any{"Who": who, "Date": t.Date(m.At), "Text": clip(m.Body, 60)})
}

// clip shortens s to n characters on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// ticket fetches the flow's ticket once per update.
func (k *kit) ticket(ctx context.Context, t *bot.Turn) (portal.Ticket, error) {
	key := "ticket|" + t.Var(varTicket)
	if v, ok := t.Cached(key); ok {
		return v.(portal.Ticket), nil
	}
	tk, err := k.p.Ticket(ctx, t.Session.Token, t.Var(varTicket))
	if err != nil {
		return tk, fail(err)
	}
	t.Cache(key, tk)
	return tk, nil
}

func (k *kit) openTicket(ctx context.Context, t *bot.Turn) (string, error) {
	tk, err := k.ticket(ctx, t)
	if err != nil {
		return "", err
	}
	switch {
	case tk.Status == portal.TicketClosed:
		return evClosed, nil
	case k.staff:
		return evStaff, nil
	}
	return k.showTicket(ctx, t)
}

// showTicket shows a ticket's last messages, oldest first.
func (k *kit) showTicket(ctx context.Context, t *bot.Turn) (string, error) {
	tk, err := k.ticket(ctx, t)
	if err != nil {
		return "", err
	}
	msgs := tk.Messages
	if len(msgs) > 8 {
		msgs = msgs[len(msgs)-8:]
	}
	var lines []string
	for _, m := range msgs {
		who := t.T("tickets.from_you", nil)
		if m.From == portal.FromStaff {
			who = m.Author
			if who == "" {
				who = t.T("tickets.from_staff", nil)
			}
		}
		lines = append(lines, t.T("tickets.message", map[string]any{"Who": who, "Date": t.DateTime(m.At), "Text": m.Body}))
	}
	t.Set(varDept, tk.Department)
	t.Data = map[string]any{"ID": tk.ID, "Subject": tk.Subject, "Status": t.T("support.status."+string(tk.Status), nil),
		"Department": k.deptLabel(ctx, t, tk.Department), "Messages": strings.Join(lines, "\n\n"),
		"Earlier": len(tk.Messages) - len(msgs)}
	return "", nil
}

func (k *kit) addMessage(ctx context.Context, t *bot.Turn) (string, error) {
	id := t.Var(varTicket)
	_, err := k.p.AddTicketMessage(portal.WithIdempotencyKey(ctx, t.UpdateKey()), t.Session.Token, id, t.Var(varPart))
	switch {
	case errors.Is(err, portal.ErrConflict):
		t.Say("human.closed_already", map[string]any{"Ticket": id})
		return evClosed, nil
	case err != nil:
		return "", fail(err)
	}
	if k.staff {
		t.Send(StaffChannel+":"+id, t.Var(varPart), staffVars(t, id, StaffMessage))
	}
	t.Set(varPart, "")
	t.Say("tickets.sent", nil)
	return bot.EventNext, nil
}

func goLive(_ context.Context, t *bot.Turn) (string, error) {
	t.Jump(Human, map[string]string{varTicket: t.Var(varTicket), varDept: t.Var(varDept)})
	return "", nil
}

// ticketReply shows a staff reply to a customer who is not in a live chat.
func ticketReply() bot.Flow {
	return bot.Flow{Name: TicketReply, Start: "show", Title: "tickets.title",
		States: []bot.State{{Name: "show", Prompt: "ticket_reply.show.prompt", Enter: member, Input: bot.End{}}}}
}

// member tells the prompt whether the customer is logged in (My tickets
// needs it).
func member(_ context.Context, t *bot.Turn) (string, error) {
	t.Data = map[string]any{"Member": t.LoggedIn()}
	return "", nil
}

// ticketClaimed tells a customer who is not in a live chat that a person
// took their ticket.
func ticketClaimed() bot.Flow {
	return bot.Flow{Name: TicketClaimed, Start: "show", Title: "tickets.title",
		States: []bot.State{{Name: "show", Prompt: "ticket_claimed.show.prompt", Input: bot.End{}}}}
}

// ticketClosed tells a customer who is not in a live chat that their
// ticket was closed, and asks for a rating.
func (k *kit) ticketClosed() bot.Flow {
	return bot.Flow{Name: TicketClosed, Start: "rate", Title: "tickets.title",
		States: k.rating()}
}
