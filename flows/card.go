package flows

import (
	"context"
	"strings"

	"supportbot/bot"
	"supportbot/portal"
)

// Vars of the payment card journey.
const (
	varCardPlans = "card_plans" // Toggles: the plans the card is for
	varLinkURL   = "url"
	varLinkUntil = "until"
)

// card: the bot never takes card details. The customer picks the plans a
// card is for and gets a one-time, expiring link to the portal's secure
// card page.
func (k *kit) card() bot.Flow {
	return bot.Flow{Name: Card, Start: "choose", Title: "card.title", Command: "card", Phrases: []string{"credit card", "payment card", "card", "payment", "pay", "כרטיס אשראי", "תשלום", "אמצעי תשלום", "לשלם"},
		Events: []string{evEmpty},
		States: []bot.State{
			{Name: "choose", Prompt: "card.choose.prompt", Auth: true, Enter: k.cardPlans,
				Input: bot.Toggles{Var: varCardPlans, Done: "card.btn.link", Min: 1, TooFew: "card.choose.none"},
				On:    bot.On{bot.EventNext: "link", evEmpty: "no_plans"}},
			{Name: "no_plans", Prompt: "plan.no_plans.prompt", Input: bot.End{}},
			{Name: "link", Enter: k.paymentLink, On: bot.On{bot.EventNext: "done"}},
			{Name: "done", Prompt: "card.done.prompt", Input: bot.End{}},
		}}
}

// cardPlans offers the customer's current plans as toggles, all on.
func (k *kit) cardPlans(ctx context.Context, t *bot.Turn) (string, error) {
	plans, err := k.p.Plans(ctx, t.Session.Token)
	if err != nil {
		return "", fail(err)
	}
	if len(plans) == 0 {
		return evEmpty, nil
	}
	var current []string
	for _, p := range plans {
		if p.Status == portal.PlanExpired { // a card for a plan that has ended pays for nothing
			continue
		}
		t.Options = append(t.Options, bot.Option{Value: p.ID, Label: t.T("plan.option", map[string]any{
			"Name": p.Name, "Number": displayPhone(p.Number)})})
		current = append(current, p.ID)
	}
	if len(current) == 0 {
		return evEmpty, nil
	}
	if !t.Has(varCardPlans) {
		t.Set(varCardPlans, strings.Join(current, ","))
	}
	// The key goes out with this screen: the link made from it, and any
	// "try again" of that, is one link.
	t.NewWriteKey()
	return "", nil
}

func (k *kit) paymentLink(ctx context.Context, t *bot.Turn) (string, error) {
	ids := strings.Split(t.Var(varCardPlans), ",")
	l, err := k.p.PaymentLink(write(ctx, t), t.Session.Token, ids)
	if err != nil {
		return "", fail(err)
	}
	t.Set(varLinkURL, l.URL)
	t.Set(varLinkUntil, t.DateTime(l.ExpiresAt))
	return bot.EventNext, nil
}
