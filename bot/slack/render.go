package slack

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"supportbot/portal"
)

// Block Kit action ids and modal callback ids.
const (
	actionClaim = "ticket_claim"
	actionReply = "ticket_reply"
	actionClose = "ticket_close"
	viewReply   = "ticket_reply"
	viewClose   = "ticket_close"
	blockReply  = "reply"
	blockNote   = "note"
	inputText   = "text"
)

// recentOrders is how many orders a ticket or /customer shows.
const recentOrders = 5

// contextTimeout bounds the portal lookup for a new ticket's context.
const contextTimeout = 5 * time.Second

// rootMessage renders a ticket's root message from its link.
func (a *Adapter) rootMessage(l link) (string, []slack.Block) {
	subject := firstNonEmpty(l.Subject, a.text("staff.ticket.no_subject", nil))
	header := a.text("staff.ticket.header", map[string]any{"Ticket": l.Ticket, "Subject": subject})
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, clip(header, 150), false, false)),
	}
	field := func(label, value string) *slack.TextBlockObject {
		if strings.TrimSpace(value) == "" {
			value = "—"
		}
		return slack.NewTextBlockObject(slack.MarkdownType, "*"+a.text(label, nil)+"*\n"+escape(value), false, false)
	}
	lang := l.Lang
	if lang == "en" || lang == "he" {
		lang = a.text("staff.lang."+lang, nil)
	}
	fields := []*slack.TextBlockObject{
		field("staff.ticket.department", l.Department),
		field("staff.ticket.customer", l.Name),
		field("staff.ticket.email", l.Email),
		field("staff.ticket.language", lang),
	}
	if l.Order != "" {
		fields = append(fields, field("staff.ticket.order", l.Order))
	}
	if l.Plan != "" {
		fields = append(fields, field("staff.ticket.plan", l.Plan))
	}
	blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	if d := strings.TrimSpace(l.Description); d != "" {
		blocks = append(blocks, slack.NewSectionBlock(
			slack.NewTextBlockObject(slack.MarkdownType, clip(quote(escape(d)), 3000), false, false), nil, nil))
	}
	if l.Context != "" {
		blocks = append(blocks, slack.NewSectionBlock(
			slack.NewTextBlockObject(slack.MarkdownType, clip(l.Context, 3000), false, false), nil, nil))
	}
	var status string
	switch {
	case l.Status == statusClosed:
		status = a.text("staff.ticket.closed_by", map[string]any{"User": "<@" + l.ClosedBy + ">"})
	case l.Assignee != "":
		status = a.text("staff.ticket.claimed_by", map[string]any{"User": "<@" + l.Assignee + ">"})
	}
	if status != "" {
		blocks = append(blocks, slack.NewContextBlock("status",
			slack.NewTextBlockObject(slack.MarkdownType, status, false, false)))
	}
	if l.Status != statusClosed {
		var buttons []slack.BlockElement
		button := func(id, label string, style slack.Style) {
			b := slack.NewButtonBlockElement(id, l.Ticket, slack.NewTextBlockObject(slack.PlainTextType, a.text(label, nil), false, false))
			if style != "" {
				b = b.WithStyle(style)
			}
			buttons = append(buttons, b)
		}
		if l.Assignee == "" {
			button(actionClaim, "staff.btn.claim", slack.StylePrimary)
		}
		button(actionReply, "staff.btn.reply", "")
		button(actionClose, "staff.btn.close", slack.StyleDanger)
		blocks = append(blocks, slack.NewActionBlock("ticket", buttons...))
	}
	return header, blocks
}

// customerContext renders the plans and recent orders of the customer
// with email, or a note that they are unavailable.
func (a *Adapter) customerContext(ctx context.Context, email string) string {
	if strings.TrimSpace(email) == "" {
		return a.text("staff.ticket.no_context", nil)
	}
	ctx, cancel := context.WithTimeout(ctx, contextTimeout)
	defer cancel()
	recs, err := a.cfg.Portal.StaffCustomers(ctx, email)
	if err != nil {
		a.log.Warn("customer context unavailable", "err", err)
		return a.text("staff.ticket.no_context", nil)
	}
	if len(recs) == 0 {
		return a.text("staff.ticket.no_record", nil)
	}
	return a.plansAndOrders(recs[0], false)
}

// plansAndOrders renders a customer's plans and recent orders (and open
// tickets when withTickets) as mrkdwn.
func (a *Adapter) plansAndOrders(r portal.CustomerRecord, withTickets bool) string {
	var b strings.Builder
	b.WriteString("*" + a.text("staff.customer.plans", nil) + "*\n")
	if len(r.Plans) == 0 {
		b.WriteString(a.text("staff.customer.none_yet", nil) + "\n")
	}
	for _, p := range r.Plans {
		b.WriteString("• " + a.text("staff.customer.plan", map[string]any{
			"Name": escape(p.Name), "Number": escape(p.Number), "Status": escape(string(p.Status)),
			"Start": p.StartDate.String(), "End": p.EndDate.String(),
		}) + "\n")
	}
	orders := append([]portal.Order(nil), r.Orders...)
	sort.SliceStable(orders, func(i, j int) bool { return orders[i].PlacedAt.After(orders[j].PlacedAt) })
	if len(orders) > recentOrders {
		orders = orders[:recentOrders]
	}
	b.WriteString("*" + a.text("staff.customer.orders", nil) + "*\n")
	if len(orders) == 0 {
		b.WriteString(a.text("staff.customer.none_yet", nil) + "\n")
	}
	for _, o := range orders {
		b.WriteString("• " + a.text("staff.customer.order", map[string]any{
			"ID": escape(o.ID), "Status": escape(string(o.Status)), "Date": o.PlacedAt.Format("2 Jan 2006"),
		}) + "\n")
	}
	if withTickets {
		var open []portal.Ticket
		for _, t := range r.Tickets {
			if t.Status != portal.TicketClosed {
				open = append(open, t)
			}
		}
		b.WriteString("*" + a.text("staff.customer.tickets", nil) + "*\n")
		if len(open) == 0 {
			b.WriteString(a.text("staff.customer.none_yet", nil) + "\n")
		}
		for _, t := range open {
			b.WriteString("• " + a.text("staff.customer.ticket", map[string]any{
				"ID": escape(t.ID), "Subject": escape(t.Subject), "Status": escape(string(t.Status)),
			}) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// customerAnswer is the ephemeral answer to /customer q.
func (a *Adapter) customerAnswer(ctx context.Context, q string) (string, []slack.Block) {
	q = strings.TrimSpace(q)
	if q == "" {
		s := a.text("staff.customer.usage", nil)
		return s, nil
	}
	ctx, cancel := context.WithTimeout(ctx, quickTimeout)
	defer cancel()
	recs, err := a.cfg.Portal.StaffCustomers(ctx, q)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return a.text("staff.customer.timeout", nil), nil
	case errors.Is(err, portal.ErrInvalid):
		return a.text("staff.customer.usage", nil), nil
	case err != nil:
		a.log.Warn("customer lookup", "err", err)
		return a.text("staff.customer.error", nil), nil
	case len(recs) == 0:
		return a.text("staff.customer.no_match", map[string]any{"Query": escape(q)}), nil
	}
	var blocks []slack.Block
	var text []string
	for i, r := range recs {
		if i == 5 {
			break
		}
		c := r.Customer
		head := a.text("staff.customer.header", map[string]any{
			"Name": escape(c.Name), "Email": escape(c.Email), "Phone": escape(firstNonEmpty(c.Phone, "—")),
		})
		text = append(text, head)
		if i > 0 {
			blocks = append(blocks, slack.NewDividerBlock())
		}
		blocks = append(blocks,
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, clip(head, 3000), false, false), nil, nil),
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, clip(a.plansAndOrders(r, true), 3000), false, false), nil, nil))
	}
	return strings.Join(text, "\n"), blocks
}

// clip cuts s to n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
