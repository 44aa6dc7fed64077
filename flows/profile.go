package flows

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"supportbot/bot"
	"supportbot/portal"
)

// Vars of the profile journey.
const (
	varName     = "name"
	varNewEmail = "new_email"
	varRepeated = "repeated" // the new password was typed twice alike
)

// Passwords the profile journey holds while the customer types the next.
const (
	heldCurrent = "current"
	heldNew     = "new"
)

// Events of the account journeys.
const (
	evName         = "name"          // change the name
	evEmail        = "email"         // change the email
	evPassword     = "password"      // change the password
	evWrongCurrent = "wrong_current" // the current password was wrong
	evHaveNew      = "have_new"      // the new password is known already
)

// Password change limits: wrong current passwords before a pause.
const (
	MaxPasswordFails = 5
	PasswordLockout  = 15 * time.Minute
)

// Password rules of the portal.
const (
	minPassword = 8
	maxPassword = 128
)

// accountActions are the journeys My account offers.
var accountActions = []string{Profile, Emails, Addresses, Card}

// account (My account): who is logged in, and the account journeys.
func (k *kit) account() bot.Flow {
	return bot.Flow{Name: Account, Start: "show", Title: "account.title", Command: "account", Phrases: []string{"my account", "account", "החשבון שלי", "חשבון"}, Menu: bot.MenuMember,
		States: []bot.State{
			{Name: "show", Prompt: "account.show.prompt", Auth: true, Enter: k.accountActions,
				Input: bot.List{Var: varAction}, On: bot.On{bot.EventNext: "go"}},
			{Name: "go", Enter: jumpTo(accountActions, ""), On: bot.On{bot.EventFail: "show"}},
		}}
}

func (k *kit) accountActions(ctx context.Context, t *bot.Turn) (string, error) {
	if _, err := k.showProfile(ctx, t); err != nil {
		return "", err
	}
	for _, a := range accountActions {
		t.Options = append(t.Options, bot.Option{Value: a, Label: t.T(a+".title", nil)})
	}
	return "", nil
}

// jumpTo starts the journey the customer chose from actions, handing it
// the current Vars[carry] (if carry is set) as its given plan.
func jumpTo(actions []string, carry string) func(context.Context, *bot.Turn) (string, error) {
	return func(_ context.Context, t *bot.Turn) (string, error) {
		a := t.Var(varAction)
		if !slices.Contains(actions, a) {
			return bot.EventFail, nil
		}
		var vars map[string]string
		if carry != "" {
			vars = map[string]string{varGivenPlan: t.Var(carry)}
		}
		t.Jump(a, vars)
		return "", nil
	}
}

// profile: see the profile; change the name, the email or the password.
func (k *kit) profile() bot.Flow {
	return bot.Flow{Name: Profile, Start: "show", Title: "profile.title", Command: "profile", Phrases: []string{"profile", "my details", "change my name", "change email", "change password", "password", "הפרטים שלי", "שינוי סיסמה", "שינוי שם", "שינוי אימייל"},
		Events: []string{evName, evEmail, evPassword, evLocked, evWrongCurrent, evHaveNew},
		States: []bot.State{
			{Name: "show", Prompt: "profile.show.prompt", Auth: true, Enter: k.showProfile,
				Buttons: []bot.Btn{{Label: "profile.btn.name", Event: evName}, {Label: "profile.btn.email", Event: evEmail},
					{Label: "profile.btn.password", Event: evPassword}},
				On: bot.On{evName: "ask_name", evEmail: "ask_email", evPassword: "password_gate"}},

			{Name: "ask_name", Prompt: "profile.ask_name.prompt", Enter: k.showProfile,
				Input: bot.Text{Check: personName, Var: varName}, On: bot.On{bot.EventNext: "confirm_name"}},
			{Name: "confirm_name", Prompt: "profile.confirm_name.prompt", Enter: k.confirmName, Input: bot.Confirm{},
				On: bot.On{bot.EventNext: "save_name", bot.EventChange: "ask_name", bot.EventFail: "ask_name"}},
			{Name: "save_name", Enter: k.saveName, On: bot.On{bot.EventNext: "done_name", bot.EventFail: "ask_name"}},
			{Name: "done_name", Prompt: "profile.done_name.prompt", Enter: k.showProfile, Input: bot.End{}},

			{Name: "ask_email", Prompt: "profile.ask_email.prompt", Enter: k.showProfile,
				Input: bot.Text{Check: email, Var: varNewEmail}, On: bot.On{bot.EventNext: "confirm_email"}},
			{Name: "confirm_email", Prompt: "profile.confirm_email.prompt", Enter: k.confirmEmail, Input: bot.Confirm{},
				On: bot.On{bot.EventNext: "save_email", bot.EventChange: "ask_email", bot.EventFail: "ask_email"}},
			{Name: "save_email", Enter: k.saveEmail, On: bot.On{bot.EventNext: "done_email", bot.EventFail: "ask_email"}},
			{Name: "done_email", Prompt: "profile.done_email.prompt", Enter: k.showProfile, Input: bot.End{}},

			{Name: "password_gate", Enter: passwordGate, On: bot.On{bot.EventNext: "ask_current", evLocked: "password_locked"}},
			{Name: "ask_current", Prompt: "profile.ask_current.prompt",
				Input: bot.Secret{Check: password, Keep: heldCurrent}, On: bot.On{bot.EventNext: "after_current"}},
			// A wrong current password does not make the customer type the
			// new one twice again.
			{Name: "after_current", Enter: afterCurrent, On: bot.On{bot.EventNext: "ask_new", evHaveNew: "save_password"}},
			{Name: "ask_new", Prompt: "profile.ask_new.prompt",
				Input: bot.Secret{Check: newPassword, Keep: heldNew}, On: bot.On{bot.EventNext: "ask_repeat"}},
			{Name: "ask_repeat", Prompt: "profile.ask_repeat.prompt",
				Input: bot.Secret{Check: password}, On: bot.On{bot.EventNext: "save_password"}},
			{Name: "save_password", Enter: k.savePassword,
				On: bot.On{bot.EventNext: "done_password", bot.EventFail: "ask_new", evWrongCurrent: "ask_current", evLocked: "password_locked"}},
			{Name: "done_password", Prompt: "profile.done_password.prompt", Input: bot.End{}},
			{Name: "password_locked", Prompt: "profile.password_locked.prompt", Enter: passwordLockedFor, Input: bot.End{}},
		}}
}

const meKey = "me"

// me returns the logged-in customer, fetched at most once per update.
func (k *kit) me(ctx context.Context, t *bot.Turn) (portal.Customer, error) {
	if v, ok := t.Cached(meKey); ok {
		return v.(portal.Customer), nil
	}
	c, err := k.p.Me(ctx, t.Session.Token)
	if err != nil {
		return c, fail(err)
	}
	t.Cache(meKey, c)
	return c, nil
}

func profileData(t *bot.Turn, c portal.Customer) map[string]any {
	phone := t.T("profile.no_phone", nil)
	if c.Phone != "" {
		phone = displayPhone(c.Phone)
	}
	lang := string(c.Lang)
	if lang != string(portal.LangEnglish) {
		lang = string(portal.LangHebrew)
	}
	return map[string]any{"Name": c.Name, "Email": c.Email, "Phone": phone, "Lang": t.T("plan.lang."+lang, nil)}
}

func (k *kit) showProfile(ctx context.Context, t *bot.Turn) (string, error) {
	c, err := k.me(ctx, t)
	if err != nil {
		return "", err
	}
	t.Data = profileData(t, c)
	return "", nil
}

// personName accepts a name of sane length, in any script.
func personName(text string) (string, string) {
	s := strings.Join(strings.Fields(text), " ")
	switch {
	case s == "":
		return "", "common.input.empty"
	case utf8.RuneCountInString(s) > 100:
		return "", "common.input.too_long"
	case strings.ContainsAny(s, "0123456789@/\\<>"):
		return "", "profile.ask_name.invalid"
	}
	return s, ""
}

func (k *kit) confirmName(ctx context.Context, t *bot.Turn) (string, error) {
	c, err := k.me(ctx, t)
	if err != nil {
		return "", err
	}
	if c.Name == t.Var(varName) {
		t.Say("profile.name_same", nil)
		return bot.EventFail, nil
	}
	t.Data = profileData(t, c)
	return "", nil
}

func (k *kit) saveName(ctx context.Context, t *bot.Turn) (string, error) {
	c, err := k.p.UpdateMe(write(ctx, t), t.Session.Token, portal.ProfileUpdate{Name: t.Var(varName)})
	if err != nil {
		if invalidField(err, "name") != "" {
			t.Say("profile.ask_name.invalid", nil)
			return bot.EventFail, nil
		}
		return "", fail(err)
	}
	t.Session.Customer = c.Name
	t.Cache(meKey, c)
	return bot.EventNext, nil
}

func (k *kit) confirmEmail(ctx context.Context, t *bot.Turn) (string, error) {
	c, err := k.me(ctx, t)
	if err != nil {
		return "", err
	}
	if strings.EqualFold(c.Email, t.Var(varNewEmail)) {
		t.Say("profile.email_same", nil)
		return bot.EventFail, nil
	}
	t.Data = profileData(t, c)
	return "", nil
}

func (k *kit) saveEmail(ctx context.Context, t *bot.Turn) (string, error) {
	c, err := k.p.UpdateMe(write(ctx, t), t.Session.Token, portal.ProfileUpdate{Email: t.Var(varNewEmail)})
	switch {
	case err == nil:
		t.Session.Email = c.Email
		t.Cache(meKey, c)
		return bot.EventNext, nil
	case errors.Is(err, portal.ErrConflict):
		t.Say("profile.email_taken", nil)
		return bot.EventFail, nil
	case invalidField(err, "email") != "":
		t.Say("common.email.invalid", nil)
		return bot.EventFail, nil
	}
	return "", fail(err)
}

// passwordGate stops a customer who typed too many wrong current passwords.
func passwordGate(_ context.Context, t *bot.Turn) (string, error) {
	if t.Now.Before(t.Session.PasswordLockedUntil) {
		return evLocked, nil
	}
	t.Set(varRepeated, "")
	return bot.EventNext, nil
}

func passwordLockedFor(_ context.Context, t *bot.Turn) (string, error) {
	n := int((t.Session.PasswordLockedUntil.Sub(t.Now) + time.Minute - 1) / time.Minute)
	t.Data = map[string]any{"Minutes": t.N("common.minutes", max(n, 1), nil)}
	return "", nil
}

func afterCurrent(_ context.Context, t *bot.Turn) (string, error) {
	if t.Var(varRepeated) != "" && t.Held(heldNew) != "" {
		return evHaveNew, nil
	}
	return bot.EventNext, nil
}

// newPassword applies the portal's rules to a new password.
func newPassword(text string) (string, string) {
	switch n := utf8.RuneCountInString(text); {
	case strings.TrimSpace(text) == "":
		return "", "common.input.empty"
	case n < minPassword:
		return "", "profile.ask_new.too_short"
	case n > maxPassword:
		return "", "profile.ask_new.too_long"
	}
	return text, ""
}

func (k *kit) savePassword(ctx context.Context, t *bot.Turn) (string, error) {
	current, next := t.Held(heldCurrent), t.Held(heldNew)
	if t.Secret != "" { // the repeat, typed just now
		if t.Secret != next {
			t.Say("profile.ask_repeat.mismatch", nil)
			return bot.EventFail, nil
		}
		t.Set(varRepeated, "1")
	}
	if current == "" || next == "" || t.Var(varRepeated) == "" {
		// Held passwords are gone (the customer logged in again on the
		// way): ask for them again rather than send empty ones.
		t.Say("profile.password_again", nil)
		t.Set(varRepeated, "")
		return evWrongCurrent, nil
	}
	err := k.p.ChangePassword(write(ctx, t), t.Session.Token, current, next)
	switch {
	case err == nil:
		t.Forget()
		t.Session.PasswordFails = 0
		return bot.EventNext, nil
	case invalidField(err, "current_password") == portal.ReasonIncorrect:
		t.Session.PasswordFails++
		if t.Session.PasswordFails >= MaxPasswordFails {
			t.Session.PasswordFails = 0
			t.Session.PasswordLockedUntil = t.Now.Add(PasswordLockout)
			t.Forget()
			return evLocked, nil
		}
		t.Say("profile.ask_current.wrong", map[string]any{"Left": strconv.Itoa(MaxPasswordFails - t.Session.PasswordFails)})
		t.NewWriteKey() // the next try is a new request
		return evWrongCurrent, nil
	case invalidField(err, "new_password") != "":
		msg := "profile.ask_new.too_short"
		if invalidField(err, "new_password") == portal.ReasonTooLong {
			msg = "profile.ask_new.too_long"
		}
		t.Say(msg, nil)
		t.Set(varRepeated, "")
		t.NewWriteKey()
		return bot.EventFail, nil
	}
	return "", fail(err)
}
