package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"supportbot/bot"
	"supportbot/portal"
)

// Vars of the order journeys.
const (
	varOrder    = "order"
	varEmail    = "email"
	varShipment = "shipment"
	varMisses   = "misses"
)

// MaxGuestMisses is how many wrong order number + email pairs a guest may
// try in one journey.
const MaxGuestMisses = 5

// orderMsgs are the message IDs the order steps render from code.
var orderMsgs = func() []string {
	ids := []string{"order.option", "order.item_line", "order.shipment_option", "order.event_line",
		"order.not_found", "order.count", "order.shipment_count", "common.money",
		"error.unavailable", "error.not_found", "error.rejected"}
	for _, s := range []portal.OrderStatus{portal.OrderPending, portal.OrderProcessing, portal.OrderShipped, portal.OrderDelivered, portal.OrderCancelled} {
		ids = append(ids, "order.status."+string(s))
	}
	for _, s := range []portal.ShipmentStatus{portal.ShipmentLabelCreated, portal.ShipmentPickedUp, portal.ShipmentInTransit,
		portal.ShipmentOutForDelivery, portal.ShipmentDelivered, portal.ShipmentException} {
		ids = append(ids, "shipment.status."+string(s))
	}
	for _, c := range []portal.Carrier{portal.CarrierUPS, portal.CarrierFedEx, portal.CarrierUSPS, portal.CarrierDHL, portal.CarrierIsraelPost} {
		ids = append(ids, "carrier."+string(c))
	}
	return ids
}()

// track: pick an order (logged in) or give order number + email (guest),
// then its shipments, then one shipment's status history and tracking link.
func (k *kit) track() bot.Flow {
	states := k.findOrder("track.list_orders.prompt", "load")
	states = append(states,
		// A deep link names the order: a logged-in customer sees it at
		// once, a guest is asked for the email it was placed with.
		bot.State{Name: "deep_link", Enter: deepLink, On: bot.On{"member": "load", bot.EventNext: "ask_email"}},
	)
	return bot.Flow{
		Name: Track, Start: "start", Title: "track.title", Command: "track", Menu: bot.MenuAlways,
		DeepLink: &bot.DeepLink{Prefix: "track_", Var: varOrder, State: "deep_link", Check: orderID},
		Msgs:     orderMsgs, States: states,
	}
}

// orders: order history (paginated) or a guest lookup, then one order's
// details, from which its shipments can be tracked.
func (k *kit) orders() bot.Flow {
	states := k.findOrder("orders.list_orders.prompt", "details")
	states = append(states,
		bot.State{Name: "details", Prompt: "orders.details.prompt", Enter: k.details,
			Buttons: []bot.Btn{{Label: "orders.btn.track", Event: "track"}},
			On:      bot.On{"track": "load", bot.EventFail: "ask_order", "too_many": "too_many"}},
	)
	return bot.Flow{
		Name: Orders, Start: "start", Title: "orders.title", Command: "orders", Menu: bot.MenuAlways,
		Msgs: orderMsgs, States: states,
	}
}

// findOrder are the steps both order journeys share: log in and pick from
// the order list (listPrompt), or give order number + email as a guest;
// either way the chosen order goes to next. The shipment steps follow
// ("load" onwards).
func (k *kit) findOrder(listPrompt, next string) []bot.State {
	states := []bot.State{
		{Name: "start", Prompt: "order.start.prompt", Enter: k.memberOrGuest,
			Buttons: []bot.Btn{{Label: "order.btn.login", Event: "login"}, {Label: "order.btn.guest", Event: "guest"}},
			On:      bot.On{"member": "list_orders", "login": "list_orders", "guest": "ask_order"}},
		{Name: "list_orders", Prompt: listPrompt, Auth: true, List: true, Var: varOrder,
			Enter: k.listOrders, On: bot.On{bot.EventNext: next, "empty": "no_orders"}},
		{Name: "no_orders", Prompt: "order.no_orders.prompt", End: true},
		{Name: "load", Enter: k.countShipments,
			On: bot.On{"none": "no_shipments", "one": "show_shipment", "many": "pick_shipment", "cancelled": "cancelled",
				bot.EventFail: "ask_order", "too_many": "too_many"}},
	}
	states = append(states, guestStates(next)...)
	return append(states, shipmentStates(k)...)
}

// guestStates ask for the order number and the email it was placed with,
// then go to next.
func guestStates(next string) []bot.State {
	return []bot.State{
		{Name: "ask_order", Prompt: "order.ask_id.prompt", Ask: orderID, Var: varOrder, MaxAttempts: 5,
			On: bot.On{bot.EventNext: "ask_email"}},
		{Name: "ask_email", Prompt: "order.ask_email.prompt", Ask: email, Var: varEmail, MaxAttempts: 5,
			On: bot.On{bot.EventNext: next}},
	}
}

func shipmentStates(k *kit) []bot.State {
	return []bot.State{
		{Name: "no_shipments", Prompt: "order.no_shipments.prompt", Enter: k.orderSummary, End: true},
		{Name: "cancelled", Prompt: "order.cancelled.prompt", Enter: k.orderSummary, End: true},
		{Name: "too_many", Prompt: "order.too_many.prompt", End: true},
		{Name: "pick_shipment", Prompt: "order.pick_shipment.prompt", List: true, Var: varShipment,
			Enter: k.listShipments, On: bot.On{bot.EventNext: "show_shipment", bot.EventFail: "ask_order", "too_many": "too_many"}},
		{Name: "show_shipment", Prompt: "order.show_shipment.prompt", Enter: k.showShipment,
			Buttons: []bot.Btn{{Label: "order.btn.refresh", Event: "refresh"}},
			On:      bot.On{"refresh": "show_shipment", bot.EventFail: "ask_order", "too_many": "too_many"}},
	}
}

func (k *kit) memberOrGuest(_ context.Context, t *bot.Turn) (string, error) {
	if t.LoggedIn() {
		return "member", nil
	}
	return "", nil
}

func deepLink(_ context.Context, t *bot.Turn) (string, error) {
	if t.LoggedIn() {
		return "member", nil
	}
	return bot.EventNext, nil
}

func (k *kit) listOrders(ctx context.Context, t *bot.Turn) (string, error) {
	page, err := k.p.Orders(ctx, t.Session.Token, t.Page(), t.PageSize())
	if err != nil {
		return "", fail(err)
	}
	if page.Total == 0 {
		return "empty", nil
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
	if t.LoggedIn() && t.Var(varEmail) == "" {
		o, err = k.p.Order(ctx, t.Session.Token, t.Var(varOrder))
	} else {
		o, err = k.p.GuestOrder(ctx, t.Var(varOrder), t.Var(varEmail))
		if errors.Is(err, portal.ErrNotFound) {
			// Bound the guesses of order number + email pairs.
			misses, _ := strconv.Atoi(t.Var(varMisses))
			t.Set(varMisses, strconv.Itoa(misses+1))
			if misses+1 >= MaxGuestMisses {
				return o, "too_many", nil
			}
			t.Say("order.not_found", nil)
			return o, bot.EventFail, nil
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
			return "cancelled", nil
		}
		return "none", nil
	case 1:
		t.Set(varShipment, o.Shipments[0].ID)
		return "one", nil
	}
	return "many", nil
}

func (k *kit) orderSummary(ctx context.Context, t *bot.Turn) (string, error) {
	o, ev, err := k.order(ctx, t)
	if ev != "" || err != nil {
		return ev, err
	}
	t.Data = map[string]any{"ID": o.ID, "Status": t.T("order.status."+string(o.Status), nil)}
	return "", nil
}

func (k *kit) details(ctx context.Context, t *bot.Turn) (string, error) {
	o, ev, err := k.order(ctx, t)
	if ev != "" || err != nil {
		return ev, err
	}
	items := make([]string, 0, len(o.Items))
	for _, it := range o.Items {
		items = append(items, t.T("order.item_line", map[string]any{
			"Qty": strconv.Itoa(it.Qty), "Name": it.Name, "Price": money(t, it.Price*it.Qty, string(o.Currency))}))
	}
	t.Data = map[string]any{
		"ID": o.ID, "Date": t.Date(o.PlacedAt), "Status": t.T("order.status."+string(o.Status), nil),
		"Items": strings.Join(items, "\n"), "Total": money(t, o.Total, string(o.Currency)),
		"Shipments": t.N("order.shipment_count", len(o.Shipments), nil),
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

func (k *kit) showShipment(ctx context.Context, t *bot.Turn) (string, error) {
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
	return t.T("common.money", map[string]any{"Symbol": sym, "Amount": fmt.Sprintf("%d.%02d", minor/100, minor%100)})
}
