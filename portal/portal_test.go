package portal_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/portal"
)

func TestDate(t *testing.T) {
	var v struct {
		D portal.Date  `json:"d"`
		Z portal.Date  `json:"z"`
		P *portal.Date `json:"p,omitempty"`
	}
	if err := json.Unmarshal([]byte(`{"d":"2026-11-20","z":""}`), &v); err != nil {
		t.Fatal(err)
	}
	if got, want := v.D, (portal.Date{Year: 2026, Month: time.November, Day: 20}); got != want {
		t.Errorf("decoded %v, want %v", got, want)
	}
	if !v.Z.IsZero() || v.Z.String() != "" {
		t.Errorf("empty text decoded to %v, want the zero Date", v.Z)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(back, map[string]string{"d": "2026-11-20", "z": ""}); diff != "" {
		t.Errorf("encoded (-got +want):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"d":"20/11/2026"}`), &v); err == nil {
		t.Error("decoding 20/11/2026 succeeded, want an error")
	}
	d := portal.Date{Year: 2026, Month: time.December, Day: 31}
	if got := d.AddDays(1); got != (portal.Date{Year: 2027, Month: time.January, Day: 1}) || !d.Before(got) || !got.After(d) {
		t.Errorf("AddDays across a year: %v", got)
	}
}

func TestValidateICCID(t *testing.T) {
	tests := []struct {
		in, want string // want: "" for valid, else the reason
	}{
		{"8997201000000090015", ""},
		{"8997 2010 0000 0090 015", ""},
		{"8997-2010-0000-0090-015", ""},
		{"89012600000000090046", ""}, // 20 digits
		{"", portal.ReasonRequired},
		{"8997201000000090016", portal.ReasonChecksum},
		{"899720100000009001", portal.ReasonInvalidFormat},    // 18 digits
		{"899720100000009001500", portal.ReasonInvalidFormat}, // 21 digits
		{"1997201000000090015", portal.ReasonInvalidFormat},   // not 89
		{"89972010000000900l5", portal.ReasonInvalidFormat},   // a letter
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := portal.ValidateICCID(tt.in)
			if tt.want == "" {
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
				return
			}
			wantInvalid(t, err, map[string]string{"iccid": tt.want})
		})
	}
}

func TestInvalidError(t *testing.T) {
	err := error(&portal.InvalidError{Fields: map[string]string{"b": "required", "a": "too_long"}})
	if !errors.Is(err, portal.ErrInvalid) || errors.Is(err, portal.ErrNotFound) {
		t.Errorf("errors.Is mismatch for %v", err)
	}
	if got, want := err.Error(), "invalid input: a=too_long b=required"; got != want {
		t.Errorf("Error() = %q, want %q (sorted, values never included)", got, want)
	}
}

func TestOrderPagePages(t *testing.T) {
	for _, tt := range []struct{ total, per, want int }{{0, 10, 1}, {1, 10, 1}, {10, 10, 1}, {11, 10, 2}, {14, 5, 3}, {5, 0, 1}} {
		if got := (portal.OrderPage{Total: tt.total, PerPage: tt.per}).Pages(); got != tt.want {
			t.Errorf("Pages(total %d, per %d) = %d, want %d", tt.total, tt.per, got, tt.want)
		}
	}
}

// recorder answers every request with status and body and records the
// requests' method, path and headers.
type recorder struct {
	status int
	body   string
	mu     sync.Mutex
	seen   []seen
}

type seen struct{ Method, Path, Auth, Key string }

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.seen = append(rec.seen, seen{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get(portal.IdempotencyHeader)})
	rec.mu.Unlock()
	w.WriteHeader(rec.status)
	w.Write([]byte(rec.body))
}

func TestRequestHeaders(t *testing.T) {
	rec := &recorder{status: http.StatusOK, body: `{}`}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	n := 0
	c := portal.NewClient(srv.URL+"/", portal.WithIdempotencyKeys(func() string { n++; return string(rune('a' + n - 1)) }))
	ctx := context.Background()
	c.Orders(ctx, "tok", 2, 5)
	c.SetVoicemail(ctx, "tok", "P 1", portal.Voicemail{Enabled: true})
	c.CancelForwarding(ctx, "tok", "P-1")
	c.GuestOrder(ctx, "SB-1", "a@b.c")
	want := []seen{
		{"GET", "/v1/orders?page=2&per_page=5", "Bearer tok", ""},
		{"PUT", "/v1/plans/P%201/voicemail", "Bearer tok", "a"},
		{"DELETE", "/v1/plans/P-1/forwarding", "Bearer tok", "b"},
		{"POST", "/v1/guest/orders/lookup", "", "c"},
	}
	if diff := cmp.Diff(rec.seen, want); diff != "" {
		t.Errorf("requests (-got +want):\n%s", diff)
	}
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		status  int
		body    string
		wantErr error
	}{
		{401, `{"error":{"code":"unauthorized","message":"x"}}`, portal.ErrUnauthorized},
		{404, ``, portal.ErrNotFound},
		{409, `{"error":{"code":"conflict","message":"x"}}`, portal.ErrConflict},
		{422, `{"error":{"code":"invalid","message":"x","fields":{"email":"invalid_format"}}}`, portal.ErrInvalid},
		{500, `oops`, portal.ErrUnavailable},
		{503, `{"error":{"code":"unavailable","message":"x"}}`, portal.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(&recorder{status: tt.status, body: tt.body})
			t.Cleanup(srv.Close)
			_, err := portal.NewClient(srv.URL, portal.WithRetries(0)).Me(context.Background(), "tok")
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}

	srv := httptest.NewServer(&recorder{status: http.StatusTeapot})
	t.Cleanup(srv.Close)
	_, err := portal.NewClient(srv.URL).Me(context.Background(), "tok")
	for _, s := range []error{portal.ErrNotFound, portal.ErrUnauthorized, portal.ErrUnavailable, portal.ErrConflict, portal.ErrInvalid} {
		if err == nil || errors.Is(err, s) {
			t.Errorf("418: err = %v, want an error that is no sentinel", err)
		}
	}

	bad := httptest.NewServer(&recorder{status: http.StatusOK, body: `{"id":`})
	t.Cleanup(bad.Close)
	if _, err := portal.NewClient(bad.URL).Me(context.Background(), "tok"); err == nil || errors.Is(err, portal.ErrUnavailable) {
		t.Errorf("malformed body: err = %v, want a decode error", err)
	}
}
