// Package flows declares supportbot's customer journeys as data (bot.Flow)
// and the small kit they share: validators, portal error mapping and the
// order and shipment steps used by several journeys.
//
// It imports bot and portal only; it never imports a channel adapter.
package flows

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"supportbot/bot"
	"supportbot/portal"
)

// Portal is the part of the company backend the flows use; *portal.Client
// implements it.
type Portal interface {
	Login(ctx context.Context, email, password string) (portal.Auth, error)
	Logout(ctx context.Context, token string) error
	RequestPasswordReset(ctx context.Context, email string) error
	Orders(ctx context.Context, token string, page, perPage int) (portal.OrderPage, error)
	Order(ctx context.Context, token, id string) (portal.Order, error)
	GuestOrder(ctx context.Context, orderID, email string) (portal.Order, error)
	Plans(ctx context.Context, token string) ([]portal.Plan, error)
	Plan(ctx context.Context, token, id string) (portal.Plan, error)
	SetSIM(ctx context.Context, token, planID, iccid string) (portal.Plan, error)
	SetDates(ctx context.Context, token, planID string, start, end portal.Date) (portal.Plan, error)
	SetVoicemail(ctx context.Context, token, planID string, v portal.Voicemail) (portal.Plan, error)
	SendAPN(ctx context.Context, token, planID string, via portal.APNChannel) (portal.APNDelivery, error)
	Usage(ctx context.Context, token, planID string) (portal.Usage, error)
	SetForwarding(ctx context.Context, token, planID, to string) (portal.Plan, error)
	CancelForwarding(ctx context.Context, token, planID string) (portal.Plan, error)
	PaymentLink(ctx context.Context, token string, planIDs []string) (portal.PaymentLink, error)
	Me(ctx context.Context, token string) (portal.Customer, error)
	UpdateMe(ctx context.Context, token string, u portal.ProfileUpdate) (portal.Customer, error)
	ChangePassword(ctx context.Context, token, current, next string) error
	Emails(ctx context.Context, token string) ([]portal.ExtraEmail, error)
	AddEmail(ctx context.Context, token, email string, n portal.Notify) (portal.ExtraEmail, error)
	UpdateEmail(ctx context.Context, token, id string, n portal.Notify) (portal.ExtraEmail, error)
	DeleteEmail(ctx context.Context, token, id string) error
	Addresses(ctx context.Context, token string) ([]portal.Address, error)
	AddAddress(ctx context.Context, token string, a portal.Address) (portal.Address, error)
	UpdateAddress(ctx context.Context, token, id string, a portal.Address) (portal.Address, error)
	Departments(ctx context.Context) ([]portal.Department, error)
	Tickets(ctx context.Context, token string) ([]portal.Ticket, error)
	Ticket(ctx context.Context, token, id string) (portal.Ticket, error)
	CreateTicket(ctx context.Context, token string, t portal.NewTicket) (portal.Ticket, error)
	AddTicketMessage(ctx context.Context, token, id, body string) (portal.Ticket, error)
	RateTicket(ctx context.Context, token, id string, rating int) (portal.Ticket, error)
	CreateGuestTicket(ctx context.Context, t portal.GuestTicket) (portal.Ticket, error)
	AddGuestTicketMessage(ctx context.Context, id, email, body string) (portal.Ticket, error)
	RateGuestTicket(ctx context.Context, id, email string, rating int) (portal.Ticket, error)
}

var _ Portal = (*portal.Client)(nil)

// Flow names; they are persisted in sessions.
const (
	Login          = "login"
	ForgotPassword = "forgot"
	Logout         = "logout"
	Track          = "track"
	Orders         = "orders"
	Plans          = "plans"
	SIM            = "sim"
	Dates          = "dates"
	Voicemail      = "voicemail"
	APN            = "apn"
	Usage          = "usage"
	Forwarding     = "forwarding"
	Account        = "account"
	Profile        = "profile"
	Emails         = "emails"
	Addresses      = "addresses"
	Card           = "card"
	Ticket         = "ticket"
	Tickets        = "tickets"
	Human          = "human"
	TicketReply    = "ticket_reply"
	TicketClaimed  = "ticket_claimed"
	TicketClosed   = "ticket_closed"
)

// Login limits.
const (
	MaxLoginFails = 5
	LockoutPeriod = 15 * time.Minute
)

// Option changes what the journeys offer.
type Option func(*kit)

// WithStaffChat says staff answer tickets in chat (the Slack side is
// configured): tickets go to the staff channel, and Talk to a person is a
// live chat. Without it staff answer tickets by email.
func WithStaffChat() Option { return func(k *kit) { k.staff = true } }

// All returns every journey in main-menu order.
func All(p Portal, log *slog.Logger, opts ...Option) []bot.Flow {
	k := &kit{p: p, log: log}
	for _, o := range opts {
		o(k)
	}
	return []bot.Flow{
		k.track(),
		k.orders(),
		k.plans(),
		k.account(),
		k.support(),
		k.myTickets(),
		k.human(),
		k.sim(),
		k.dates(),
		k.voicemail(),
		k.apn(),
		k.usage(),
		k.forwarding(),
		k.profile(),
		k.emails(),
		k.addresses(),
		k.card(),
		k.login(),
		k.forgot(),
		k.logout(),
		ticketReply(),
		ticketClaimed(),
		k.ticketClosed(),
	}
}

type kit struct {
	p Portal
	// log is for what a flow logs outside an update; while one is handled,
	// flows log through Turn.Log, whose lines carry the chat and update id.
	log *slog.Logger
	// staff: tickets go to staff on chat (WithStaffChat).
	staff bool
}

// fail maps a portal error to what the customer is told. Expected outcomes
// become a *bot.UserError; anything else stays an internal error.
func fail(err error) error {
	switch {
	case errors.Is(err, portal.ErrUnauthorized):
		return bot.ErrLoginRequired
	case errors.Is(err, portal.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &bot.UserError{MsgID: "error.unavailable", Err: err, Warn: true}
	case errors.Is(err, portal.ErrNotFound):
		return &bot.UserError{MsgID: "error.not_found", Err: err}
	case errors.Is(err, portal.ErrInvalid):
		return &bot.UserError{MsgID: "error.rejected", Err: err}
	case errors.Is(err, portal.ErrConflict):
		return &bot.UserError{MsgID: "error.conflict", Err: err}
	}
	return err
}
