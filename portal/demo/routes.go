package demo

import "net/http"

// access says who may call a route.
type access int

// Access levels of routes.
const (
	public  access = iota // anyone
	private               // a customer: a live bearer token
	staff                 // staff: the staff key (Options.StaffKey) as the bearer token
)

// route is one operation of the contract.
type route struct {
	pattern string // method and path, as in openapi.yaml
	auth    access
	h       func(*call) reply
}

// routes lists the contract's operations (openapi.yaml) and their handlers.
func (s *Server) routes() []route {
	return []route{
		{"POST /v1/auth/login", public, s.login},
		{"POST /v1/auth/logout", private, s.logout},
		{"POST /v1/auth/password-reset", public, s.passwordReset},

		{"GET /v1/me", private, s.me},
		{"PATCH /v1/me", private, s.updateMe},
		{"POST /v1/me/password", private, s.changePassword},
		{"GET /v1/me/emails", private, s.listEmails},
		{"POST /v1/me/emails", private, s.addEmail},
		{"PATCH /v1/me/emails/{id}", private, s.updateEmail},
		{"DELETE /v1/me/emails/{id}", private, s.deleteEmail},
		{"GET /v1/me/addresses", private, s.listAddresses},
		{"POST /v1/me/addresses", private, s.addAddress},
		{"PUT /v1/me/addresses/{id}", private, s.updateAddress},

		{"GET /v1/orders", private, s.listOrders},
		{"GET /v1/orders/{id}", private, s.getOrder},
		{"POST /v1/guest/orders/lookup", public, s.guestLookup},

		{"GET /v1/departments", public, s.listDepartments},
		{"GET /v1/tickets", private, s.listTickets},
		{"POST /v1/tickets", private, s.createTicket},
		{"GET /v1/tickets/{id}", private, s.getTicket},
		{"POST /v1/tickets/{id}/messages", private, s.addTicketMessage},
		{"POST /v1/tickets/{id}/rating", private, s.rateTicket},
		{"POST /v1/guest/tickets", public, s.createGuestTicket},
		{"POST /v1/guest/tickets/{id}/messages", public, s.addGuestTicketMessage},
		{"POST /v1/guest/tickets/{id}/rating", public, s.rateGuestTicket},

		{"GET /v1/staff/tickets/{id}", staff, s.withTicket(s.staffTicket)},
		{"POST /v1/staff/tickets/{id}/messages", staff, s.withTicket(s.staffReply)},
		{"POST /v1/staff/tickets/{id}/assign", staff, s.withTicket(s.staffAssign)},
		{"POST /v1/staff/tickets/{id}/close", staff, s.withTicket(s.staffClose)},
		{"GET /v1/staff/customers", staff, s.staffCustomers},

		{"POST /v1/payment-link", private, s.paymentLink},

		{"GET /v1/plans", private, s.listPlans},
		{"GET /v1/plans/{id}", private, withPlan(s.getPlan)},
		{"PUT /v1/plans/{id}/sim", private, withPlan(s.setSIM)},
		{"PUT /v1/plans/{id}/dates", private, withPlan(s.setDates)},
		{"PUT /v1/plans/{id}/voicemail", private, withPlan(s.setVoicemail)},
		{"POST /v1/plans/{id}/apn", private, withPlan(s.sendAPN)},
		{"GET /v1/plans/{id}/usage", private, withPlan(s.getUsage)},
		{"PUT /v1/plans/{id}/forwarding", private, withPlan(s.setForwarding)},
		{"DELETE /v1/plans/{id}/forwarding", private, withPlan(s.cancelForwarding)},
	}
}

// newMux routes every operation, and answers anything else with a JSON 404.
func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		mux.Handle(r.pattern, s.handler(r))
	}
	mux.Handle("/", s.handler(route{h: func(*call) reply { return notFound("no such endpoint") }}))
	return mux
}
