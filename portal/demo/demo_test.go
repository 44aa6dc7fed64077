package demo

import (
	"bufio"
	"context"
	"errors"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"supportbot/portal"
)

func TestCheckDigits(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"ups", "1Z" + "999AA101234567" + "8" + upsCheck("999AA1012345678"), "1Z999AA10123456784"},
		{"s10", "RR12345678" + s10Check("12345678") + "IL", "RR123456785IL"},
		{"gs1", "629104150021" + gs1Check("629104150021"), "6291041500213"}, // GS1's own example
		{"luhn", withLuhn("7992739871"), "79927398713"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}

func TestTrackingNumbers(t *testing.T) {
	tests := []struct {
		carrier portal.Carrier
		length  int
		prefix  string
		url     string
	}{
		{portal.CarrierUPS, 18, "1Z", "https://www.ups.com/track?"},
		{portal.CarrierFedEx, 12, "77", "https://www.fedex.com/fedextrack/?trknbr="},
		{portal.CarrierUSPS, 22, "94001", "https://tools.usps.com/go/TrackConfirmAction?tLabels="},
		{portal.CarrierDHL, 10, "", "https://www.dhl.com/"},
		{portal.CarrierIsraelPost, 13, "RR", "https://israelpost.co.il/"},
	}
	for _, tt := range tests {
		t.Run(string(tt.carrier), func(t *testing.T) {
			for _, serial := range []int{0, 1, 104233, 99999999, 123456789} {
				n := trackingNumber(tt.carrier, serial)
				if len(n) != tt.length || !strings.HasPrefix(n, tt.prefix) {
					t.Errorf("trackingNumber(%d) = %s, want %d characters starting %q", serial, n, tt.length, tt.prefix)
				}
				u := trackingURL(tt.carrier, n)
				if !strings.HasPrefix(u, tt.url) || !strings.HasSuffix(u, n) {
					t.Errorf("trackingURL(%s) = %s, want %s…%s", n, u, tt.url, n)
				}
			}
		})
	}
}

// TestSeed checks the invariants the bot relies on, for the hand-written
// customers and some generated ones.
func TestSeed(t *testing.T) {
	s := New(Options{ExtraCustomers: 50})
	for i := 1; i <= 50; i += 7 {
		s.materialize(i)
	}
	iccids := map[string]string{}
	orderIDs := map[string]bool{}
	for _, c := range s.customers {
		if c.Name == "" || c.password == "" || !validEmail(c.Email) || !validLang(string(c.Lang)) {
			t.Errorf("customer %s: incomplete %+v", c.ID, c.Customer)
		}
		if !slices.IsSortedFunc(c.orders, func(a, b *portal.Order) int { return b.PlacedAt.Compare(a.PlacedAt) }) {
			t.Errorf("customer %s: orders are not newest first", c.ID)
		}
		for _, o := range c.orders {
			checkOrder(t, o)
			if orderIDs[o.ID] {
				t.Errorf("order %s: duplicate ID", o.ID)
			}
			orderIDs[o.ID] = true
		}
		for _, p := range c.plans {
			if err := portal.ValidateICCID(p.ICCID); err != nil {
				t.Errorf("plan %s: ICCID %s: %v", p.ID, p.ICCID, err)
			}
			if other, dup := iccids[p.ICCID]; dup {
				t.Errorf("plan %s: ICCID shared with %s", p.ID, other)
			}
			iccids[p.ICCID] = p.ID
			if !e164.MatchString(p.Number) || p.EndDate.Before(p.StartDate) || p.usage.PlanID != p.ID {
				t.Errorf("plan %s: bad number, dates or usage: %+v", p.ID, p.Plan)
			}
			if p.Forwarding.Enabled && !e164.MatchString(p.Forwarding.To) {
				t.Errorf("plan %s: bad forwarding %+v", p.ID, p.Forwarding)
			}
		}
		for _, a := range c.addresses {
			cp := *a
			if fields := checkAddress(&cp); len(fields) > 0 {
				t.Errorf("customer %s address %s: %v", c.ID, a.ID, fields)
			}
		}
	}
	if len(s.customers) < 4+8 {
		t.Errorf("got %d customers, want at least 12", len(s.customers))
	}
	counts := map[int]bool{}
	for _, o := range s.orders {
		counts[len(o.Shipments)] = true
	}
	for n := range 3 {
		if !counts[n] {
			t.Errorf("no order with %d shipments", n)
		}
	}
}

func checkOrder(t *testing.T, o *portal.Order) {
	t.Helper()
	total := 0
	for _, it := range o.Items {
		total += it.Qty * it.Price
	}
	if total != o.Total || len(o.Items) == 0 || o.Shipments == nil {
		t.Errorf("order %s: total %d, items sum %d, %d items, shipments %v", o.ID, o.Total, total, len(o.Items), o.Shipments)
	}
	if o.ShipTo.ID != "" || o.ShipTo.DefaultBilling || o.ShipTo.DefaultShipping {
		t.Errorf("order %s: ship-to carries address book fields: %+v", o.ID, o.ShipTo)
	}
	for _, sh := range o.Shipments {
		if len(sh.Events) == 0 || sh.Events[len(sh.Events)-1].Status != sh.Status {
			t.Errorf("shipment %s: status %s does not match its last event", sh.ID, sh.Status)
			continue
		}
		if !slices.IsSortedFunc(sh.Events, func(a, b portal.TrackingEvent) int { return a.At.Compare(b.At) }) {
			t.Errorf("shipment %s: events are not oldest first", sh.ID)
		}
		if sh.Events[0].At.Before(o.PlacedAt) {
			t.Errorf("shipment %s: first event before the order", sh.ID)
		}
		if !strings.HasSuffix(sh.TrackingURL, sh.TrackingNumber) {
			t.Errorf("shipment %s: URL %s does not track %s", sh.ID, sh.TrackingURL, sh.TrackingNumber)
		}
	}
	if len(o.Shipments) == 0 && (o.Status == portal.OrderShipped || o.Status == portal.OrderDelivered) {
		t.Errorf("order %s: %s without shipments", o.ID, o.Status)
	}
}

// TestRoutesMatchContract compares the served operations with the paths and
// methods of openapi.yaml.
func TestRoutesMatchContract(t *testing.T) {
	f, err := os.Open("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var spec []string
	path := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "  /v1/") && strings.HasSuffix(line, ":"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case !strings.HasPrefix(line, " ") && line != "":
			path = ""
		case path != "" && len(line) > 4 && line[4] != ' ':
			m := strings.TrimSuffix(strings.TrimSpace(line), ":")
			switch m {
			case "get", "post", "put", "patch", "delete":
				spec = append(spec, strings.ToUpper(m)+" "+path)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, r := range New(Options{}).routes() {
		served = append(served, r.pattern)
	}
	slices.Sort(spec)
	slices.Sort(served)
	if diff := cmp.Diff(served, spec); diff != "" {
		t.Errorf("served operations (-demo +openapi.yaml):\n%s", diff)
	}
}

func TestDeterministicSeed(t *testing.T) {
	a, b := New(Options{}), New(Options{})
	for id, o := range a.orders {
		if diff := cmp.Diff(o, b.orders[id]); diff != "" {
			t.Errorf("order %s differs between servers:\n%s", id, diff)
		}
	}
	for id, p := range a.plans {
		if diff := cmp.Diff(p.Plan, b.plans[id].Plan); diff != "" {
			t.Errorf("plan %s differs between servers:\n%s", id, diff)
		}
	}
}

func TestListen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, shutdown, err := Listen(ctx, "", New(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	c := portal.NewClient(url)
	deps, err := c.Departments(ctx)
	if err != nil {
		t.Fatalf("Departments: %v", err)
	}
	if len(deps) != 4 {
		t.Errorf("got %d departments, want 4", len(deps))
	}
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := portal.NewClient(url, portal.WithRetries(0)).Departments(ctx); !errors.Is(err, portal.ErrUnavailable) {
		t.Errorf("after shutdown: err = %v, want ErrUnavailable", err)
	}
}

// TestImports keeps portal on the standard library and portal/demo on
// portal and the standard library (non-test files).
func TestImports(t *testing.T) {
	allowed := map[string]map[string]bool{
		"..": {},
		".":  {"supportbot/portal": true},
	}
	for dir, extra := range allowed {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") || (strings.HasPrefix(p, "supportbot") && !extra[p]) {
					t.Errorf("%s imports %s", name, p)
				}
			}
		}
	}
}
