// Package portal holds the wire types of the company backend's HTTP contract
// (openapi.yaml), a Client that speaks it, and the sentinel errors callers
// check with errors.Is and errors.As.
//
// It imports the standard library only. The demo backend in portal/demo
// implements the same contract for the default run and for tests.
package portal

import "time"

// Lang is a customer's language: LangHebrew or LangEnglish.
type Lang string

// Languages the portal knows.
const (
	LangHebrew  Lang = "he"
	LangEnglish Lang = "en"
)

// Customer is a portal account holder.
type Customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	// Phone is the contact number in E.164 form, or empty.
	Phone string `json:"phone,omitempty"`
	Lang  Lang   `json:"lang"`
}

// Auth is the answer to a successful login.
type Auth struct {
	// Token is an opaque bearer token. It is a secret: never log it.
	Token    string   `json:"token"`
	Customer Customer `json:"customer"`
}

// ProfileUpdate changes a customer's profile; empty fields are left as they are.
type ProfileUpdate struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Lang  Lang   `json:"lang,omitempty"`
}

// Notify says which notifications go to an additional email address.
type Notify struct {
	Orders   bool `json:"orders"`
	Shipping bool `json:"shipping"`
	Billing  bool `json:"billing"`
	Support  bool `json:"support"`
}

// ExtraEmail is an additional email address on a customer's account, with
// the notifications it receives.
type ExtraEmail struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Notify Notify `json:"notify"`
}

// Address is a postal address: an address book entry, or an order's
// ship-to address (which has no ID and no default flags).
type Address struct {
	ID         string `json:"id,omitempty"`
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	// Country is an ISO 3166-1 alpha-2 code such as "IL" or "US".
	Country string `json:"country"`
	Phone   string `json:"phone,omitempty"`
	// DefaultBilling and DefaultShipping mark the book's defaults; setting
	// one on an address clears it on the others.
	DefaultBilling  bool `json:"default_billing,omitempty"`
	DefaultShipping bool `json:"default_shipping,omitempty"`
}

// OrderStatus is where an order stands. Callers localise it by its code.
type OrderStatus string

// Order statuses.
const (
	OrderPending    OrderStatus = "pending"
	OrderProcessing OrderStatus = "processing"
	OrderShipped    OrderStatus = "shipped"
	OrderDelivered  OrderStatus = "delivered"
	OrderCancelled  OrderStatus = "cancelled"
)

// Currency is an ISO 4217 code. Amounts are integers in its minor unit
// (agorot, cents).
type Currency string

// Currencies the portal bills in.
const (
	ILS Currency = "ILS"
	USD Currency = "USD"
)

// Order is one purchase: SIM rentals, devices, accessories.
type Order struct {
	// ID is the customer-facing order number, such as "SB-104233".
	ID       string      `json:"id"`
	PlacedAt time.Time   `json:"placed_at"`
	Status   OrderStatus `json:"status"`
	// Email is the contact address the order was placed with; a guest
	// lookup needs it.
	Email    string      `json:"email"`
	Items    []OrderItem `json:"items"`
	Total    int         `json:"total"`
	Currency Currency    `json:"currency"`
	ShipTo   Address     `json:"ship_to"`
	// Shipments is empty until the order ships; a split order has several.
	Shipments []Shipment `json:"shipments"`
}

// OrderItem is one line of an order. Price is per unit, in the order's
// currency's minor unit.
type OrderItem struct {
	SKU   string `json:"sku"`
	Name  string `json:"name"`
	Qty   int    `json:"qty"`
	Price int    `json:"price"`
}

// OrderPage is one page of a customer's orders, newest first.
type OrderPage struct {
	Orders []Order `json:"orders"`
	// Page is 1-based.
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
	// Total is the number of orders on all pages.
	Total int `json:"total"`
}

// Pages returns the number of pages, at least 1.
func (p OrderPage) Pages() int {
	if p.PerPage <= 0 || p.Total <= 0 {
		return 1
	}
	return (p.Total + p.PerPage - 1) / p.PerPage
}

// Carrier is a shipping carrier code. Callers localise it by its code.
type Carrier string

// Carriers.
const (
	CarrierUPS        Carrier = "ups"
	CarrierFedEx      Carrier = "fedex"
	CarrierUSPS       Carrier = "usps"
	CarrierDHL        Carrier = "dhl"
	CarrierIsraelPost Carrier = "israel_post"
)

// ShipmentStatus is where a parcel stands. Callers localise it by its code.
type ShipmentStatus string

// Shipment statuses, in the order a parcel normally goes through them
// (ShipmentException can happen at any point).
const (
	ShipmentLabelCreated   ShipmentStatus = "label_created"
	ShipmentPickedUp       ShipmentStatus = "picked_up"
	ShipmentInTransit      ShipmentStatus = "in_transit"
	ShipmentOutForDelivery ShipmentStatus = "out_for_delivery"
	ShipmentDelivered      ShipmentStatus = "delivered"
	ShipmentException      ShipmentStatus = "exception"
)

// Shipment is one parcel of an order.
type Shipment struct {
	ID             string  `json:"id"`
	Carrier        Carrier `json:"carrier"`
	TrackingNumber string  `json:"tracking_number"`
	// TrackingURL is the carrier's public tracking page for the parcel.
	TrackingURL string         `json:"tracking_url"`
	Status      ShipmentStatus `json:"status"`
	// Events is the status history, oldest first.
	Events []TrackingEvent `json:"events"`
}

// TrackingEvent is one step of a shipment's history.
type TrackingEvent struct {
	At       time.Time      `json:"at"`
	Status   ShipmentStatus `json:"status"`
	Location string         `json:"location,omitempty"`
}

// Department is a support team a ticket can be addressed to.
type Department struct {
	// ID is a stable code such as "billing"; callers may localise by it.
	ID     string `json:"id"`
	Name   string `json:"name"`
	NameHE string `json:"name_he,omitempty"`
	// About is a one-line description in English that helps a customer
	// pick the right department; AboutHE is the same in Hebrew.
	About   string `json:"about"`
	AboutHE string `json:"about_he,omitempty"`
}

// Label returns the department's name in lang, falling back to English.
func (d Department) Label(lang Lang) string {
	if lang == LangHebrew && d.NameHE != "" {
		return d.NameHE
	}
	return d.Name
}

// Description returns the department's one-line description in lang,
// falling back to English.
func (d Department) Description(lang Lang) string {
	if lang == LangHebrew && d.AboutHE != "" {
		return d.AboutHE
	}
	return d.About
}

// TicketStatus is where a support ticket stands.
type TicketStatus string

// Ticket statuses: open (waiting for staff), pending (waiting for the
// customer), closed.
const (
	TicketOpen    TicketStatus = "open"
	TicketPending TicketStatus = "pending"
	TicketClosed  TicketStatus = "closed"
)

// Ticket is a support request.
type Ticket struct {
	// ID is the customer-facing ticket number, such as "T-5001".
	ID         string       `json:"id"`
	Department string       `json:"department"`
	Subject    string       `json:"subject"`
	Status     TicketStatus `json:"status"`
	OrderID    string       `json:"order_id,omitempty"`
	PlanID     string       `json:"plan_id,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`
	// Assignee is the staff member handling the ticket, or empty.
	Assignee string `json:"assignee,omitempty"`
	// Resolution is staff's summary when they closed the ticket, or empty.
	Resolution string `json:"resolution,omitempty"`
	// Rating is the customer's rating of a closed ticket, 1 to 5, or 0
	// when not rated.
	Rating int `json:"rating,omitempty"`
	// Messages is the conversation, oldest first. Ticket lists leave it
	// empty; fetch one ticket to read it.
	Messages []TicketMessage `json:"messages,omitempty"`
}

// TicketMessage is one message in a ticket.
type TicketMessage struct {
	At time.Time `json:"at"`
	// From is "customer" or "staff".
	From   string `json:"from"`
	Author string `json:"author,omitempty"`
	Body   string `json:"body"`
}

// Ticket message senders.
const (
	FromCustomer = "customer"
	FromStaff    = "staff"
)

// NewTicket is what a customer submits to open a ticket. OrderID and PlanID
// optionally give staff context.
type NewTicket struct {
	Department string `json:"department"`
	Subject    string `json:"subject"`
	Body       string `json:"body"`
	OrderID    string `json:"order_id,omitempty"`
	PlanID     string `json:"plan_id,omitempty"`
}

// GuestTicket is what someone who is not logged in submits to open a
// ticket. When a registered customer has Email, the ticket is theirs;
// otherwise it is a guest ticket kept with Email and Name. OrderID
// optionally gives staff context.
type GuestTicket struct {
	Email      string `json:"email"`
	Name       string `json:"name"`
	Department string `json:"department"`
	Subject    string `json:"subject"`
	Body       string `json:"body"`
	OrderID    string `json:"order_id,omitempty"`
}

// Ticket ratings: a customer rates a closed ticket from MinRating to
// MaxRating.
const (
	MinRating = 1
	MaxRating = 5
)

// StaffTicket is a ticket as staff see it: with its messages and the
// customer who opened it. For a guest ticket Customer holds only the
// guest's Name and Email (no ID).
type StaffTicket struct {
	Ticket   Ticket   `json:"ticket"`
	Customer Customer `json:"customer"`
}

// CustomerRecord is what staff see of a customer found by
// Client.StaffCustomers: their plans, up to five latest orders (newest
// first), and their tickets that are not closed (newest first, without
// messages).
type CustomerRecord struct {
	Customer Customer `json:"customer"`
	Plans    []Plan   `json:"plans"`
	Orders   []Order  `json:"orders"`
	Tickets  []Ticket `json:"tickets"`
}

// PaymentLink is a one-time secure portal page where the customer enters a
// card for some plans. Cards never travel through the API or the chat.
type PaymentLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Country is an ISO 3166-1 alpha-2 code of a plan's phone number.
type Country string

// Countries plans have numbers in.
const (
	CountryIL Country = "IL"
	CountryUS Country = "US"
)

// PlanStatus is where a plan stands.
type PlanStatus string

// Plan statuses.
const (
	PlanPending   PlanStatus = "pending" // not started yet
	PlanActive    PlanStatus = "active"
	PlanExpired   PlanStatus = "expired"
	PlanSuspended PlanStatus = "suspended"
)

// Plan is a SIM rental: a phone number for a period, with its settings.
type Plan struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Number is the plan's phone number in E.164 form, such as
	// "+972523456789" or "+12125550147".
	Number  string  `json:"number"`
	Country Country `json:"country"`
	// ICCID is the SIM card's number: 19 or 20 digits starting with 89.
	ICCID      string     `json:"iccid"`
	StartDate  Date       `json:"start_date"`
	EndDate    Date       `json:"end_date"`
	Status     PlanStatus `json:"status"`
	Voicemail  Voicemail  `json:"voicemail"`
	Forwarding Forwarding `json:"forwarding"`
}

// Voicemail is a plan's voicemail setting; Lang is the greeting's language.
type Voicemail struct {
	Enabled bool `json:"enabled"`
	Lang    Lang `json:"lang"`
}

// Forwarding is a plan's call forwarding; To is an E.164 number.
type Forwarding struct {
	Enabled bool   `json:"enabled"`
	To      string `json:"to,omitempty"`
}

// APNChannel is how APN settings are sent to a customer.
type APNChannel string

// APN channels.
const (
	APNBySMS   APNChannel = "sms"
	APNByEmail APNChannel = "email"
)

// APNDelivery says where APN settings were sent.
type APNDelivery struct {
	Via APNChannel `json:"via"`
	// To is the phone number or email address the settings went to.
	To string `json:"to"`
}

// Usage is a plan's consumption in its current billing period. A limit of 0
// means unlimited.
type Usage struct {
	PlanID       string    `json:"plan_id"`
	PeriodStart  Date      `json:"period_start"`
	PeriodEnd    Date      `json:"period_end"`
	Minutes      int       `json:"minutes"`
	MinutesLimit int       `json:"minutes_limit"`
	DataMB       int       `json:"data_mb"`
	DataLimitMB  int       `json:"data_limit_mb"`
	SMS          int       `json:"sms"`
	SMSLimit     int       `json:"sms_limit"`
	UpdatedAt    time.Time `json:"updated_at"`
}
