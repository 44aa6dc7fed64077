package portal

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Sentinel errors returned (wrapped) by Client methods. Check them with
// errors.Is.
var (
	// ErrNotFound: the thing asked for does not exist or is not the
	// caller's (HTTP 404). A guest order lookup with a wrong order number
	// or a wrong email returns it alike.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: wrong credentials, or a missing, expired or revoked
	// token (HTTP 401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrUnavailable: the backend could not be reached or failed: a
	// transport error, a timeout or a 5xx answer. The call may succeed
	// later.
	ErrUnavailable = errors.New("unavailable")
	// ErrConflict: the write clashes with the current state (HTTP 409),
	// for example an email address already in use, a message to a closed
	// ticket, or an idempotency key reused for a different request.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the backend rejected the input (HTTP 422). The error is
	// an *InvalidError; use errors.As to read the field reasons.
	ErrInvalid = errors.New("invalid")
)

// Error codes of the wire error body.
const (
	CodeNotFound     = "not_found"
	CodeUnauthorized = "unauthorized"
	CodeInvalid      = "invalid"
	CodeUnavailable  = "unavailable"
	CodeConflict     = "conflict"
)

// Field reasons an InvalidError may carry. They are stable codes, meant to
// be localised by the caller.
const (
	ReasonRequired      = "required"
	ReasonInvalidFormat = "invalid_format"
	ReasonChecksum      = "checksum"     // a check digit is wrong (ICCID Luhn)
	ReasonTooShort      = "too_short"    // below the minimum length
	ReasonTooLong       = "too_long"     // above the maximum length
	ReasonUnknown       = "unknown"      // refers to something that does not exist
	ReasonInPast        = "in_past"      // a date before today
	ReasonBeforeStart   = "before_start" // an end date before the start date
	ReasonIncorrect     = "incorrect"    // e.g. the current password
	ReasonSameAsPlan    = "same_as_plan" // forwarding a number to itself
	ReasonOutOfRange    = "out_of_range" // a number outside its allowed range
)

// InvalidError is returned (wrapped) when the backend rejects the input.
// Fields maps a request field name, as spelled on the wire (for example
// "iccid" or "end_date"), to a Reason code. errors.Is(err, ErrInvalid)
// reports true for it; use errors.As to read the fields:
//
//	var inv *portal.InvalidError
//	if errors.As(err, &inv) && inv.Fields["iccid"] == portal.ReasonChecksum { … }
type InvalidError struct {
	// Message is the backend's explanation, for logs; not for users.
	Message string
	Fields  map[string]string
}

// Error lists the fields and their reasons; it never contains the values.
func (e *InvalidError) Error() string {
	if len(e.Fields) == 0 {
		return "invalid input"
	}
	var b strings.Builder
	b.WriteString("invalid input:")
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		fmt.Fprintf(&b, " %s=%s", k, e.Fields[k])
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// ErrorResponse is the JSON body of every error answer of the contract.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the content of an ErrorResponse. Code is one of the Code
// constants; Fields is set for CodeInvalid.
type ErrorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}
