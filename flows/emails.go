package flows

import (
	"context"
	"errors"
	"strings"

	"supportbot/bot"
	"supportbot/portal"
)

// Vars of the additional emails journey.
const (
	varExtraID    = "extra_id"    // the chosen additional email's id
	varExtraAddr  = "extra_email" // its address, kept to show after a change
	varAddNotify  = "add_notify"  // Toggles: what a new address gets
	varEditNotify = "edit_notify" // Toggles: what the chosen address gets
	varEditFor    = "edit_for"    // the id varEditNotify was set up from
	varSaved      = "saved"       // what the portal saved, for the done screen
)

// Events of the additional emails journey.
const (
	evAddEmail     = "add"    // add an address
	evChangeNotify = "notify" // change what the chosen address gets
	evRemoveEmail  = "remove" // remove the chosen address
	evEmailsFull   = "full"   // the account has the most addresses allowed
)

// maxExtraEmails is the portal's limit on additional emails per account:
// a sixth answers 409.
const maxExtraEmails = 5

// notifications are the kinds of notification an additional email can get,
// in the order they are shown: the Toggles value, the word in a summary,
// the toggle's label, and the field of portal.Notify.
var notifications = []struct {
	value, word, label string
	field              func(*portal.Notify) *bool
}{
	{"orders", "emails.notify.orders", "emails.opt.orders", func(n *portal.Notify) *bool { return &n.Orders }},
	{"shipping", "emails.notify.shipping", "emails.opt.shipping", func(n *portal.Notify) *bool { return &n.Shipping }},
	{"billing", "emails.notify.billing", "emails.opt.billing", func(n *portal.Notify) *bool { return &n.Billing }},
	{"support", "emails.notify.support", "emails.opt.support", func(n *portal.Notify) *bool { return &n.Support }},
}

// emails (Additional emails): list the addresses that get copies of the
// customer's notifications; add one, change what one gets, or remove it.
func (k *kit) emails() bot.Flow {
	return bot.Flow{Name: Emails, Start: "list", Title: "emails.title", Command: "emails", Phrases: []string{"additional email", "another email", "emails", "notifications", "אימייל נוסף", "כתובות אימייל", "התראות"},
		Events: []string{evEmpty, evAddEmail, evChangeNotify, evRemoveEmail, evEmailsFull},
		States: []bot.State{
			{Name: "list", Prompt: "emails.list.prompt", Auth: true, Enter: k.listEmails, Input: bot.List{Var: varExtraID},
				Buttons: []bot.Btn{{Label: "emails.btn.add", Event: evAddEmail}},
				On:      bot.On{bot.EventNext: "chosen", evAddEmail: "ask_email", evEmpty: "none"}},
			{Name: "none", Prompt: "emails.none.prompt", Enter: accountEmail,
				Buttons: []bot.Btn{{Label: "emails.btn.add", Event: evAddEmail}}, On: bot.On{evAddEmail: "ask_email"}},

			// Add: the address, checked here against the account, then what it gets.
			{Name: "ask_email", Prompt: "emails.ask_email.prompt", Enter: k.roomForEmail,
				Input: bot.Text{Check: email, Var: varNewEmail},
				On:    bot.On{bot.EventNext: "check_email", evEmailsFull: "list"}},
			{Name: "check_email", Enter: k.checkNewEmail, On: bot.On{bot.EventNext: "add_notify", bot.EventFail: "ask_email"}},
			{Name: "add_notify", Prompt: "emails.add_notify.prompt", Enter: addNotifyOptions,
				Input: bot.Toggles{Var: varAddNotify, Done: "emails.btn.continue"}, On: bot.On{bot.EventNext: "confirm_add"}},
			{Name: "confirm_add", Prompt: "emails.confirm_add.prompt", Enter: confirmAddEmail, Input: bot.Confirm{},
				On: bot.On{bot.EventNext: "save_add", bot.EventChange: "add_notify"}},
			{Name: "save_add", Enter: k.saveNewEmail, On: bot.On{bot.EventNext: "done_add", bot.EventFail: "ask_email"}},
			{Name: "done_add", Prompt: "emails.done_add.prompt", Enter: showSavedEmail, Input: bot.End{}},

			// One address: what it gets; change that, or remove it.
			{Name: "chosen", Prompt: "emails.chosen.prompt", Enter: k.showChosenEmail,
				Buttons: []bot.Btn{{Label: "emails.btn.notify", Event: evChangeNotify}, {Label: "emails.btn.remove", Event: evRemoveEmail}},
				On:      bot.On{evChangeNotify: "edit_notify", evRemoveEmail: "confirm_remove", bot.EventFail: "list"}},
			{Name: "edit_notify", Prompt: "emails.edit_notify.prompt", Enter: k.editNotifyOptions,
				Input: bot.Toggles{Var: varEditNotify, Done: "emails.btn.continue"},
				On:    bot.On{bot.EventNext: "confirm_edit", bot.EventFail: "list"}},
			{Name: "confirm_edit", Prompt: "emails.confirm_edit.prompt", Enter: k.confirmEditEmail, Input: bot.Confirm{},
				On: bot.On{bot.EventNext: "save_edit", bot.EventChange: "edit_notify", bot.EventFail: "edit_notify"}},
			{Name: "save_edit", Enter: k.saveEmailNotify, On: bot.On{bot.EventNext: "done_edit", bot.EventFail: "edit_notify"}},
			{Name: "done_edit", Prompt: "emails.done_edit.prompt", Enter: showSavedEmail, Input: bot.End{}},
			{Name: "confirm_remove", Prompt: "emails.confirm_remove.prompt", Enter: k.showChosenEmail, Input: bot.Confirm{Change: "common.btn.back"},
				On: bot.On{bot.EventNext: "save_remove", bot.EventChange: "chosen", bot.EventFail: "list"}},
			{Name: "save_remove", Enter: k.removeEmail, On: bot.On{bot.EventNext: "done_remove"}},
			{Name: "done_remove", Prompt: "emails.done_remove.prompt", Enter: showSavedEmail, Input: bot.End{}},
		}}
}

const extraEmailsKey = "emails"

// extraEmails returns the customer's additional emails, fetched at most
// once per update.
func (k *kit) extraEmails(ctx context.Context, t *bot.Turn) ([]portal.ExtraEmail, error) {
	if v, ok := t.Cached(extraEmailsKey); ok {
		return v.([]portal.ExtraEmail), nil
	}
	list, err := k.p.Emails(ctx, t.Session.Token)
	if err != nil {
		return nil, fail(err)
	}
	t.Cache(extraEmailsKey, list)
	return list, nil
}

// chosenEmail returns the additional email the customer chose, and keeps
// its address for the screens after a change; false when it is no longer
// on the account.
func (k *kit) chosenEmail(ctx context.Context, t *bot.Turn) (portal.ExtraEmail, bool, error) {
	list, err := k.extraEmails(ctx, t)
	if err != nil {
		return portal.ExtraEmail{}, false, err
	}
	for _, e := range list {
		if e.ID == t.Var(varExtraID) {
			t.Set(varExtraAddr, e.Email)
			return e, true, nil
		}
	}
	return portal.ExtraEmail{}, false, nil
}

// emailGone tells the customer the chosen address has gone meanwhile; the
// step returns to the list.
func emailGone(t *bot.Turn) (string, error) {
	t.Say("emails.list.gone", nil)
	return bot.EventFail, nil
}

// notifySet is a Notify as the Toggles value.
func notifySet(n portal.Notify) string {
	var on []string
	for _, kind := range notifications {
		if *kind.field(&n) {
			on = append(on, kind.value)
		}
	}
	return strings.Join(on, ",")
}

// notifyOf reads the Toggles value back.
func notifyOf(set string) portal.Notify {
	var n portal.Notify
	on := strings.Split(set, ",")
	for _, kind := range notifications {
		for _, v := range on {
			if v == kind.value {
				*kind.field(&n) = true
			}
		}
	}
	return n
}

// notifyText names what an address gets: "orders, shipping", or
// "no notifications".
func notifyText(t *bot.Turn, n portal.Notify) string {
	var words []string
	for _, kind := range notifications {
		if *kind.field(&n) {
			words = append(words, t.T(kind.word, nil))
		}
	}
	if len(words) == 0 {
		return t.T("emails.notify.none", nil)
	}
	return strings.Join(words, ", ")
}

// notifyOptions are the Toggles' choices.
func notifyOptions(t *bot.Turn) []bot.Option {
	opts := make([]bot.Option, 0, len(notifications))
	for _, kind := range notifications {
		opts = append(opts, bot.Option{Value: kind.value, Label: t.T(kind.label, nil)})
	}
	return opts
}

func (k *kit) listEmails(ctx context.Context, t *bot.Turn) (string, error) {
	list, err := k.extraEmails(ctx, t)
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return evEmpty, nil
	}
	lines := make([]string, 0, len(list))
	for _, e := range list {
		lines = append(lines, t.T("emails.list.line", map[string]any{"Email": e.Email, "Notify": notifyText(t, e.Notify)}))
		t.Options = append(t.Options, bot.Option{Value: e.ID, Label: t.T("emails.list.option", map[string]any{"Email": e.Email})})
	}
	t.Data = map[string]any{"Emails": strings.Join(lines, "\n"), "Account": t.Session.Email}
	return "", nil
}

func accountEmail(_ context.Context, t *bot.Turn) (string, error) {
	t.Data = map[string]any{"Account": t.Session.Email}
	return "", nil
}

// roomForEmail goes back to the list, saying why, instead of asking when
// the account has the most additional emails allowed.
func (k *kit) roomForEmail(ctx context.Context, t *bot.Turn) (string, error) {
	list, err := k.extraEmails(ctx, t)
	if err != nil {
		return "", err
	}
	if len(list) >= maxExtraEmails {
		t.Say("emails.list.full", nil)
		return evEmailsFull, nil
	}
	return "", nil
}

// checkNewEmail refuses the account's own email and one already listed,
// before the customer chooses its notifications.
func (k *kit) checkNewEmail(ctx context.Context, t *bot.Turn) (string, error) {
	addr := t.Var(varNewEmail)
	if strings.EqualFold(addr, t.Session.Email) {
		t.Say("emails.ask_email.own", map[string]any{"Email": addr})
		return bot.EventFail, nil
	}
	list, err := k.extraEmails(ctx, t)
	if err != nil {
		return "", err
	}
	for _, e := range list {
		if strings.EqualFold(addr, e.Email) {
			t.Say("emails.ask_email.listed", map[string]any{"Email": e.Email})
			return bot.EventFail, nil
		}
	}
	return bot.EventNext, nil
}

func addNotifyOptions(_ context.Context, t *bot.Turn) (string, error) {
	t.Options = notifyOptions(t)
	return "", nil
}

func confirmAddEmail(_ context.Context, t *bot.Turn) (string, error) {
	t.Data = map[string]any{"Email": t.Var(varNewEmail), "Notify": notifyText(t, notifyOf(t.Var(varAddNotify)))}
	return "", nil
}

func (k *kit) saveNewEmail(ctx context.Context, t *bot.Turn) (string, error) {
	addr := t.Var(varNewEmail)
	e, err := k.p.AddEmail(write(ctx, t), t.Session.Token, addr, notifyOf(t.Var(varAddNotify)))
	switch {
	case err == nil:
		saveShown(t, e)
		return bot.EventNext, nil
	case errors.Is(err, portal.ErrConflict):
		// Checked a step ago, so it was added meanwhile, or the account
		// filled up: asking again shows which.
		t.Say("emails.ask_email.conflict", map[string]any{"Email": addr})
		return bot.EventFail, nil
	case invalidField(err, "email") != "":
		t.Say("common.email.invalid", nil)
		return bot.EventFail, nil
	}
	return "", fail(err)
}

// saveShown keeps what the portal saved, for the done screen.
func saveShown(t *bot.Turn, e portal.ExtraEmail) {
	t.Set(varExtraAddr, e.Email)
	t.Set(varSaved, notifySet(e.Notify))
}

// showSavedEmail fills a done screen with the address just saved.
func showSavedEmail(_ context.Context, t *bot.Turn) (string, error) {
	t.Data = map[string]any{"Email": t.Var(varExtraAddr), "Notify": notifyText(t, notifyOf(t.Var(varSaved)))}
	return "", nil
}

func (k *kit) showChosenEmail(ctx context.Context, t *bot.Turn) (string, error) {
	e, ok, err := k.chosenEmail(ctx, t)
	if err != nil {
		return "", err
	}
	if !ok {
		return emailGone(t)
	}
	t.Data = map[string]any{"Email": e.Email, "Notify": notifyText(t, e.Notify)}
	return "", nil
}

// editNotifyOptions offers the chosen address's notifications as toggles,
// set as they are now the first time.
func (k *kit) editNotifyOptions(ctx context.Context, t *bot.Turn) (string, error) {
	e, ok, err := k.chosenEmail(ctx, t)
	if err != nil {
		return "", err
	}
	if !ok {
		return emailGone(t)
	}
	if !t.Has(varEditNotify) || t.Var(varEditFor) != e.ID {
		t.Set(varEditNotify, notifySet(e.Notify))
		t.Set(varEditFor, e.ID)
	}
	t.Data = map[string]any{"Email": e.Email}
	t.Options = notifyOptions(t)
	return "", nil
}

func (k *kit) confirmEditEmail(ctx context.Context, t *bot.Turn) (string, error) {
	e, ok, err := k.chosenEmail(ctx, t)
	if err != nil {
		return "", err
	}
	if !ok {
		return bot.EventFail, nil // the toggles' step says it is gone
	}
	want := notifyOf(t.Var(varEditNotify))
	if want == e.Notify {
		t.Say("emails.edit_notify.unchanged", map[string]any{"Email": e.Email})
		return bot.EventFail, nil
	}
	t.Data = map[string]any{"Email": e.Email, "Old": notifyText(t, e.Notify), "New": notifyText(t, want)}
	return "", nil
}

func (k *kit) saveEmailNotify(ctx context.Context, t *bot.Turn) (string, error) {
	e, err := k.p.UpdateEmail(write(ctx, t), t.Session.Token, t.Var(varExtraID), notifyOf(t.Var(varEditNotify)))
	switch {
	case err == nil:
		saveShown(t, e)
		return bot.EventNext, nil
	case errors.Is(err, portal.ErrNotFound):
		return bot.EventFail, nil // the toggles' step finds it gone and says so
	}
	return "", fail(err)
}

func (k *kit) removeEmail(ctx context.Context, t *bot.Turn) (string, error) {
	err := k.p.DeleteEmail(write(ctx, t), t.Session.Token, t.Var(varExtraID))
	if err != nil && !errors.Is(err, portal.ErrNotFound) { // gone already is what was asked
		return "", fail(err)
	}
	return bot.EventNext, nil
}
