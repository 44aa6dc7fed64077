package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"supportbot/bot"
	"supportbot/portal"
)

// Vars of the order journeys.
const (
	varOrder    = "order"
	varEmail    = "email"
	varShipment = "shipment"
	varTried    = "tried" // the order number and email a lookup found nothing for
)

// Guest lookups: wrong order number + email pairs a chat may try before
// guest lookups pause for GuestLockout.
const (
	MaxGuestMisses = 5
	GuestLockout   = 15 * time.Minute
)

// Events of the order journeys.
const (
	evMember    = "member"    // a logged-in customer: no need to ask
	evLogin     = "login"     // the customer chose to log in
	evGuest     = "guest"     // the customer chose to continue as a guest
	evEmpty     = "empty"     // nothing to list
	evNone      = "none"      // an order with no shipment
	evOne       = "one"       // exactly one: no choice to make
	evMany      = "many"      // several: the customer chooses
	evCancelled = "cancelled" // a cancelled order
	evTooMany   = "too_many"  // too many wrong guesses
	evTrack     = "track"     // track this order's shipments
	evRefresh   = "refresh"   // show again with fresh data
	evProblem   = "problem"   // a shipment with a delivery problem
	evUnpaid    = "unpaid"    // an order awaiting payment
	evHuman     = "human"     // talk to a person about it
)

// orderEvents are the events the shared order steps use.
var orderEvents = []string{evMember, evLogin, evGuest, evEmpty, evNone, evOne, evMany, evCancelled, evTooMany, evRefresh, evProblem, evHuman}

// track: pick an order (logged in) or give order number + email (guest),
// then its shipments, then one shipment's status history and tracking link.
func (k *kit) track() bot.Flow {
	states := k.findOrder("track.list_orders.prompt", "load")
	states = append(states,
		// A deep link names the order: a logged-in customer sees it at
		// once, a guest is asked for the email it was placed with.
		bot.State{Name: "deep_link", Enter: deepLink, On: bot.On{evMember: "load", bot.EventNext: "ask_email"}},
	)
	return bot.Flow{
		Name: Track, Start: "start", Title: "track.title", Command: "track", Menu: bot.MenuAlways, Resume: "order.resume",
		DeepLink: &bot.DeepLink{Prefix: "track_", Var: varOrder, State: "deep_link", Check: orderID},
		Shortcut: &bot.Shortcut{Check: orderID, Var: varOrder, State: "deep_link"},
		Phrases: []string{"where is my order", "track", "tracking", "shipment", "delivery", "parcel", "package", "courier",
			"איפה ההזמנה", "איפה המשלוח", "מעקב", "משלוח", "שליח", "חבילת דואר"},
		Events: orderEvents, States: states,
	}
}

// orders: order history (paginated) or a guest lookup, then one order's
// details, from which its shipments can be tracked.
func (k *kit) orders() bot.Flow {
	states := k.findOrder("orders.list_orders.prompt", "details")
	states = append(states,
		bot.State{Name: "details", Prompt: "orders.details.prompt", Enter: k.details,
			Buttons: []bot.Btn{{Label: "orders.btn.track", Event: evTrack}},
			On:      bot.On{evTrack: "load", evNone: "details_unshipped", evUnpaid: "details_unpaid", bot.EventFail: "fix_lookup", evTooMany: "too_many"}},
		// Awaiting payment: the customer can take it to billing.
		bot.State{Name: "details_unpaid", Prompt: "orders.details.prompt", Enter: k.detailsOnly,
			Buttons: []bot.Btn{{Label: "common.btn.human", Event: evHuman}},
			On:      bot.On{evHuman: "to_billing", bot.EventFail: "fix_lookup", evTooMany: "too_many"}},
		bot.State{Name: "to_billing", Enter: toHuman("billing")},
		// Nothing shipped yet: no shipments to track.
		bot.State{Name: "details_unshipped", Prompt: "orders.details.prompt", Enter: k.detailsOnly,
			On: bot.On{bot.EventFail: "fix_lookup", evTooMany: "too_many"}},
		bot.State{Name: "deep_link", Enter: deepLink, On: bot.On{evMember: "details", bot.EventNext: "ask_email"}},
	)
	return bot.Flow{
		Name: Orders, Start: "start", Title: "orders.title", Command: "orders", Menu: bot.MenuAlways, Resume: "order.resume",
		Shortcut: &bot.Shortcut{Check: orderID, Var: varOrder, State: "deep_link"},
		Phrases:  []string{"order history", "my orders", "orders", "past orders", "receipt", "היסטוריית הזמנות", "ההזמנות שלי", "הזמנות קודמות", "קבלה"},
		Events:   append([]string{evTrack, evUnpaid}, orderEvents...), States: states,
	}
}

// findOrder are the steps both order journeys share: log in and pick from
// the order list (listPrompt), or give order number + email as a guest;
// either way the chosen order goes to next. The shipment steps follow
// ("load" onwards).
func (k *kit) findOrder(listPrompt, next string) []bot.State {
	states := []bot.State{
		{Name: "start", Prompt: "order.start.prompt", Enter: k.memberOrGuest,
			Buttons: []bot.Btn{{Label: "order.btn.login", Event: evLogin}, {Label: "order.btn.guest", Event: evGuest}},
			On:      bot.On{evMember: "list_orders", evLogin: "list_orders", evGuest: "ask_order"}},
		{Name: "list_orders", Prompt: listPrompt, Auth: true, Input: bot.List{Var: varOrder},
			Enter: k.listOrders, On: bot.On{bot.EventNext: next, evEmpty: "no_orders"}},
		{Name: "no_orders", Prompt: "order.no_orders.prompt", Input: bot.End{}},
		{Name: "load", Enter: k.countShipments,
			On: bot.On{evNone: "no_shipments", evOne: "show_shipment", evMany: "pick_shipment", evCancelled: "cancelled",
				bot.EventFail: "fix_lookup", evTooMany: "too_many"}},
	}
	states = append(states, guestStates(next)...)
	return append(states, shipmentStates(k)...)
}

// guestStates ask for the order number and the email it was placed with,
// then go to next.
func guestStates(next string) []bot.State {
	return []bot.State{
		{Name: "ask_order", Prompt: "order.ask_id.prompt", Enter: guestGate, Input: bot.Text{Check: orderID, Var: varOrder},
			On: bot.On{bot.EventNext: "ask_email", evTooMany: "too_many"}},
		{Name: "ask_email", Prompt: "order.ask_email.prompt", Input: bot.Text{Check: email, Var: varEmail},
			On: bot.On{bot.EventNext: next}},
		// A lookup that found nothing keeps both answers and lets the
		// customer change either (without saying which was wrong).
		{Name: "fix_lookup", Prompt: "order.fix_lookup.prompt", Enter: lookupReview, Input: bot.Review{Save: "order.btn.search", Fields: []bot.Field{
			{Label: "order.btn.fix_order", State: "ask_order"}, {Label: "order.btn.fix_email", State: "ask_email"}}},
			On: bot.On{bot.EventNext: next}},
	}
}

func shipmentStates(k *kit) []bot.State {
	return []bot.State{
		{Name: "no_shipments", Prompt: "order.no_shipments.prompt", Enter: k.orderSummary, Input: bot.End{}},
		{Name: "cancelled", Prompt: "order.cancelled.prompt", Enter: k.orderSummary, Input: bot.End{}},
		{Name: "too_many", Prompt: "order.too_many.prompt", Enter: guestLockedFor, Input: bot.End{}},
		{Name: "pick_shipment", Prompt: "order.pick_shipment.prompt", Input: bot.List{Var: varShipment},
			Enter: k.listShipments, On: bot.On{bot.EventNext: "show_shipment", bot.EventFail: "fix_lookup", evTooMany: "too_many"}},
		{Name: "show_shipment", Prompt: "order.show_shipment.prompt", Enter: k.showShipment,
			Buttons: []bot.Btn{{Label: "order.btn.refresh", Event: evRefresh}},
			On:      bot.On{evRefresh: "show_shipment", evProblem: "show_problem", bot.EventFail: "fix_lookup", evTooMany: "too_many"}},
		// A delivery problem: the customer can take it to a person.
		{Name: "show_problem", Prompt: "order.show_shipment.prompt", Enter: k.shipmentOnly,
			Buttons: []bot.Btn{{Label: "order.btn.refresh", Event: evRefresh}, {Label: "common.btn.human", Event: evHuman}},
			On:      bot.On{evRefresh: "show_shipment", evHuman: "to_shipping", bot.EventFail: "fix_lookup", evTooMany: "too_many"}},
		{Name: "to_shipping", Enter: toHuman("shipping")},
	}
}

func (k *kit) memberOrGuest(_ context.Context, t *bot.Turn) (string, error) {
	if t.LoggedIn() {
		return evMember, nil
	}
	return "", nil
}

// lookupReview says whether the details shown are the ones that found
// nothing, or already corrected.
func lookupReview(_ context.Context, t *bot.Turn) (string, error) {
	t.Data = map[string]any{"Changed": t.Var(varTried) != t.Var(varOrder)+"|"+t.Var(varEmail)}
	return "", nil
}

// guestGate stops a chat whose guest lookups are paused.
func guestGate(_ context.Context, t *bot.Turn) (string, error) {
	if t.Now.Before(t.Session.GuestLockedUntil) {
		return evTooMany, nil
	}
	return "", nil
}

// guestLockedFor says how long guest lookups stay paused.
func guestLockedFor(_ context.Context, t *bot.Turn) (string, error) {
	n := int((t.Session.GuestLockedUntil.Sub(t.Now) + time.Minute - 1) / time.Minute)
	t.Data = map[string]any{"Minutes": t.N("common.minutes", max(n, 1), nil)}
	return "", nil
}

func deepLink(_ context.Context, t *bot.Turn) (string, error) {
	if t.LoggedIn() {
		return evMember, nil
	}
	return bot.EventNext, nil
}

func (k *kit) listOrders(ctx context.Context, t *bot.Turn) (string, error) {
	page, err := k.p.Orders(ctx, t.Session.Token, t.Page(), t.PageSize())
	if err != nil {
		return "", fail(err)
	}
	if page.Total == 0 {
		return evEmpty, nil
	}
	if len(page.Orders) == 0 { // a page past the end (an old button): show the last
		t.SetPage(page.Pages())
		if page, err = k.p.Orders(ctx, t.Session.Token, t.Page(), t.PageSize()); err != nil {
			return "", fail(err)
		}
	}
	for _, o := range page.Orders {
		t.Options = append(t.Options, bot.Option{Value: o.ID, Label: t.T("order.option", map[string]any{
			"ID": o.ID, "Date": t.Date(o.PlacedAt), "Status": t.T("order.status."+string(o.Status), nil)})})
	}
	t.More = page.Page < page.Pages()
	t.Data = map[string]any{"Total": t.N("order.count", page.Total, nil), "Page": strconv.Itoa(page.Page), "Pages": strconv.Itoa(page.Pages())}
	return "", nil
}

// order fetches the flow's order: by token when logged in, else by the
// guest's order number and email. A guest's wrong number or email gets one
// answer that does not say which was wrong, and the fail event back to the
// order number (with both values kept, shown in the prompt).
func (k *kit) order(ctx context.Context, t *bot.Turn) (portal.Order, string, error) {
	var (
		o   portal.Order
		err error
	)
	// load and show_shipment run in one update: fetch the order once.
	memo := "order|" + t.Var(varOrder) + "|" + t.Var(varEmail)
	if v, ok := t.Cached(memo); ok {
		return v.(portal.Order), "", nil
	}
	defer func() {
		if err == nil && o.ID != "" {
			t.Cache(memo, o)
		}
	}()
	if t.LoggedIn() && t.Var(varEmail) == "" {
		o, err = k.p.Order(ctx, t.Session.Token, t.Var(varOrder))
	} else {
		if t.Now.Before(t.Session.GuestLockedUntil) {
			return o, evTooMany, nil
		}
		o, err = k.p.GuestOrder(ctx, t.Var(varOrder), t.Var(varEmail))
		switch {
		case errors.Is(err, portal.ErrNotFound):
			// Bound the guesses of order number + email pairs, per chat.
			t.Set(varTried, t.Var(varOrder)+"|"+t.Var(varEmail))
			t.Session.GuestMisses++
			if t.Session.GuestMisses >= MaxGuestMisses {
				t.Session.GuestMisses = 0
				t.Session.GuestLockedUntil = t.Now.Add(GuestLockout)
				return o, evTooMany, nil
			}
			return o, bot.EventFail, nil
		case err == nil:
			t.Session.GuestMisses = 0
		}
	}
	if err != nil {
		return o, "", fail(err)
	}
	return o, "", nil
}

func (k *kit) countShipments(ctx context.Context, t *bot.Turn) (string, error) {
	o, ev, err := k.order(ctx, t)
	if ev != "" || err != nil {
		return ev, err
	}
	switch len(o.Shipments) {
	case 0:
		if o.Status == portal.OrderCancelled {
			return evCancelled, nil
		}
		return evNone, nil
	case 1:
		t.Set(varShipment, o.Shipments[0].ID)
		return evOne, nil
	}
	return evMany, nil
}

func (k *kit) orderSummary(ctx context.Context, t *bot.Turn) (string, error) {
	o, ev, err := k.order(ctx, t)
	if ev != "" || err != nil {
		return ev, err
	}
	t.Data = map[string]any{"ID": o.ID, "Status": t.T("order.status."+string(o.Status), nil)}
	return "", nil
}

// details shows an order, or moves to details_unshipped when nothing of it
// has shipped (no shipments to offer tracking for).
func (k *kit) details(ctx context.Context, t *bot.Turn) (string, error) {
	o, ev, err := k.order(ctx, t)
	if ev != "" || err != nil {
		return ev, err
	}
	switch {
	case o.Status == portal.OrderPending:
		return evUnpaid, nil
	case len(o.Shipments) == 0:
		return evNone, nil
	}
	return k.detailsOnly(ctx, t)
}

// detailsOnly shows an order.
func (k *kit) detailsOnly(ctx context.Context, t *bot.Turn) (string, error) {
	o, ev, err := k.order(ctx, t)
	if ev != "" || err != nil {
		return ev, err
	}
	shipments := t.T("order.not_shipped", nil)
	if len(o.Shipments) > 0 {
		shipments = t.N("order.shipment_count", len(o.Shipments), nil)
	}
	items := make([]string, 0, len(o.Items))
	for _, it := range o.Items {
		items = append(items, t.T("order.item_line", map[string]any{
			"Qty": strconv.Itoa(it.Qty), "Name": it.Name, "Price": money(t, it.Price*it.Qty, string(o.Currency))}))
	}
	t.Data = map[string]any{
		"ID": o.ID, "Date": t.Date(o.PlacedAt), "Status": t.T("order.status."+string(o.Status), nil),
		"Items": strings.Join(items, "\n"), "Total": money(t, o.Total, string(o.Currency)),
		"Shipments": shipments,
	}
	return "", nil
}

func (k *kit) listShipments(ctx context.Context, t *bot.Turn) (string, error) {
	o, ev, err := k.order(ctx, t)
	if ev != "" || err != nil {
		return ev, err
	}
	for _, s := range o.Shipments {
		t.Options = append(t.Options, bot.Option{Value: s.ID, Label: t.T("order.shipment_option", map[string]any{
			"Carrier": t.T("carrier."+string(s.Carrier), nil), "Number": s.TrackingNumber,
			"Status": t.T("shipment.status."+string(s.Status), nil)})})
	}
	t.Data = map[string]any{"ID": o.ID, "Shipments": t.N("order.shipment_count", len(o.Shipments), nil)}
	return "", nil
}

// showShipment shows the chosen shipment; one with a delivery problem
// goes to a screen that offers a person.
func (k *kit) showShipment(ctx context.Context, t *bot.Turn) (string, error) {
	ev, err := k.shipmentOnly(ctx, t)
	if ev != "" || err != nil {
		return ev, err
	}
	if t.Var("_problem") != "" {
		return evProblem, nil
	}
	return "", nil
}

// toHuman hands the order to Talk to a person, in dept.
func toHuman(dept string) func(context.Context, *bot.Turn) (string, error) {
	return func(_ context.Context, t *bot.Turn) (string, error) {
		t.Jump(Human, map[string]string{varDept: dept, varOrder: t.Var(varOrder), varEmail: t.Var(varEmail)})
		return "", nil
	}
}

// shipmentOnly shows the chosen shipment.
func (k *kit) shipmentOnly(ctx context.Context, t *bot.Turn) (string, error) {
	o, ev, err := k.order(ctx, t)
	if ev != "" || err != nil {
		return ev, err
	}
	for _, s := range o.Shipments {
		if s.ID != t.Var(varShipment) {
			continue
		}
		lines := make([]string, 0, len(s.Events))
		for i := len(s.Events) - 1; i >= 0; i-- { // newest first
			ev := s.Events[i]
			lines = append(lines, t.T("order.event_line", map[string]any{
				"When": t.DateTime(ev.At), "Status": t.T("shipment.status."+string(ev.Status), nil), "Location": ev.Location}))
		}
		t.Data = map[string]any{
			"ID": o.ID, "Carrier": t.T("carrier."+string(s.Carrier), nil), "Number": s.TrackingNumber,
			"Status": t.T("shipment.status."+string(s.Status), nil), "URL": s.TrackingURL,
			"History": strings.Join(lines, "\n"),
		}
		problem := ""
		if s.Status == portal.ShipmentException {
			problem = "1"
		}
		t.Set("_problem", problem)
		return "", nil
	}
	return "", &bot.UserError{MsgID: "error.not_found"}
}

// money renders an amount in minor units (agorot, cents) with its currency.
func money(t *bot.Turn, minor int, currency string) string {
	sym := currency
	switch currency {
	case "ILS":
		sym = "₪"
	case "USD":
		sym = "$"
	}
	return t.T("common.money", map[string]any{"Symbol": sym, "Amount": thousands(minor/100) + fmt.Sprintf(".%02d", minor%100)})
}
