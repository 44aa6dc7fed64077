package flows

import (
	"context"
	"errors"
	"strconv"
	"time"

	"supportbot/bot"
	"supportbot/portal"
)

// Events of the account journeys.
const (
	evAlready     = "already"      // already logged in
	evLocked      = "locked"       // too many wrong passwords
	evChangeEmail = "change_email" // type another email
	evForgot      = "forgot"       // send a reset link instead
)

// login asks for email and password. The password is read in a Secret state:
// its message is deleted, and it reaches only the check step of the same
// update. After MaxLoginFails wrong tries the chat is locked for LockoutPeriod.
func (k *kit) login() bot.Flow {
	return bot.Flow{
		Name: Login, Start: "ask_email", Title: "login.title", Command: "login", Phrases: []string{"log in", "login", "sign in", "התחברות", "להתחבר"}, Menu: bot.MenuGuest,
		Events: []string{evAlready, evLocked, evChangeEmail, evForgot},
		States: []bot.State{
			{Name: "ask_email", Prompt: "login.ask_email.prompt", Input: bot.Text{Check: email, Var: "email"},
				Enter: k.loginGate, On: bot.On{bot.EventNext: "ask_password", evAlready: "already", evLocked: "locked"}},
			{Name: "ask_password", Prompt: "login.ask_password.prompt", Input: bot.Secret{Check: password},
				Buttons: []bot.Btn{{Label: "login.btn.change_email", Event: evChangeEmail}, {Label: "login.btn.forgot", Event: evForgot}},
				On:      bot.On{bot.EventNext: "check", evChangeEmail: "ask_email", evForgot: "forgot_sent"}},
			{Name: "check", Enter: k.checkLogin, On: bot.On{bot.EventNext: "done", bot.EventFail: "ask_password", evLocked: "locked"}},
			// A lock-out ends the journey that asked for login too.
			{Name: "locked", Prompt: "login.locked.prompt", Enter: lockedFor, Input: bot.End{Abort: true}},
			{Name: "forgot_sent", Enter: k.sendReset, Prompt: "forgot.done.prompt", Input: bot.End{}},
			{Name: "done", Prompt: "login.done.prompt", Enter: greet, Input: bot.End{}},
			{Name: "already", Prompt: "login.already.prompt", Enter: greet, Input: bot.End{}},
		},
	}
}

// loginGate skips login for a logged-in customer and refuses a locked chat.
func (k *kit) loginGate(_ context.Context, t *bot.Turn) (string, error) {
	if t.LoggedIn() {
		return evAlready, nil
	}
	if t.Now.Before(t.Session.LockedUntil) {
		return evLocked, nil
	}
	return "", nil
}

// lockedFor says how long the lock-out lasts, in whole minutes rounded up.
func lockedFor(_ context.Context, t *bot.Turn) (string, error) {
	n := int((t.Session.LockedUntil.Sub(t.Now) + time.Minute - 1) / time.Minute)
	t.Data = map[string]any{"Minutes": t.N("common.minutes", max(n, 1), nil)}
	return "", nil
}

func (k *kit) checkLogin(ctx context.Context, t *bot.Turn) (string, error) {
	if t.Now.Before(t.Session.LockedUntil) {
		return evLocked, nil
	}
	if t.Secret == "" {
		// Reached without a password just typed (a retry, a language
		// change): ask for it again rather than send an empty one.
		return bot.EventFail, nil
	}
	auth, err := k.p.Login(ctx, t.Var("email"), t.Secret)
	switch {
	case errors.Is(err, portal.ErrInvalid):
		t.Say("login.rejected", nil)
		return bot.EventFail, nil
	case errors.Is(err, portal.ErrUnauthorized):
		t.Session.LoginFails++
		if t.Session.LoginFails >= MaxLoginFails {
			t.Session.LoginFails = 0
			t.Session.LockedUntil = t.Now.Add(LockoutPeriod)
			return evLocked, nil
		}
		t.Say("login.wrong", map[string]any{"Left": strconv.Itoa(MaxLoginFails - t.Session.LoginFails)})
		return bot.EventFail, nil
	case errors.Is(err, portal.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		// The password is gone by design: ask for it again rather than retry.
		t.Say("login.unavailable", nil)
		return bot.EventFail, nil
	case err != nil:
		return "", fail(err)
	}
	t.Session.Token = auth.Token
	t.Session.Customer = auth.Customer.Name
	t.Session.Email = auth.Customer.Email
	t.Session.LoginFails = 0
	return bot.EventNext, nil
}

// greet names the logged-in customer in a prompt.
func greet(_ context.Context, t *bot.Turn) (string, error) {
	t.Data = map[string]any{"Name": t.Session.Customer}
	return "", nil
}

// forgot asks for the email and requests a reset link. The answer is the
// same whether or not an account exists.
func (k *kit) forgot() bot.Flow {
	return bot.Flow{
		Name: ForgotPassword, Start: "ask_email", Title: "forgot.title", Command: "forgot", Phrases: []string{"forgot password", "reset password", "forgot my password", "שכחתי סיסמה", "איפוס סיסמה", "שכחתי את הסיסמה"}, Menu: bot.MenuGuest,
		States: []bot.State{
			{Name: "ask_email", Prompt: "forgot.ask_email.prompt", Input: bot.Text{Check: email, Var: "email"}, On: bot.On{bot.EventNext: "send"}},
			{Name: "send", Enter: k.sendReset, Prompt: "forgot.done.prompt", Input: bot.End{}},
		},
	}
}

func (k *kit) sendReset(ctx context.Context, t *bot.Turn) (string, error) {
	if err := k.p.RequestPasswordReset(ctx, t.Var("email")); err != nil {
		return "", fail(err)
	}
	return "", nil
}

// logout revokes the portal token and forgets it.
func (k *kit) logout() bot.Flow {
	return bot.Flow{
		Name: Logout, Start: "run", Title: "logout.title", Command: "logout", Phrases: []string{"log out", "logout", "sign out", "התנתקות", "להתנתק"}, Menu: bot.MenuMember,
		Events: []string{evGuest},
		States: []bot.State{
			{Name: "run", Enter: k.doLogout, On: bot.On{bot.EventNext: "done", evGuest: "not_logged_in"}},
			{Name: "done", Prompt: "logout.done.prompt", Input: bot.End{}},
			{Name: "not_logged_in", Prompt: "logout.not_logged_in.prompt", Input: bot.End{}},
		},
	}
}

func (k *kit) doLogout(ctx context.Context, t *bot.Turn) (string, error) {
	if !t.LoggedIn() {
		return evGuest, nil
	}
	// Forget the token whatever the portal says: the customer asked to leave.
	if err := k.p.Logout(ctx, t.Session.Token); err != nil && !errors.Is(err, portal.ErrUnauthorized) {
		t.Log().Warn("portal logout", "err", err)
	}
	t.Session.Logout()
	return bot.EventNext, nil
}
