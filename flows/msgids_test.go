package flows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"supportbot/portal"
)

// messageID is the shape of a message ID written in code: "plan.status",
// "sim.ask_iccid.checksum"; a trailing dot marks a prefix completed at run
// time ("plan.status." + status).
var messageID = regexp.MustCompile(`^[a-z_]+(\.[a-z0-9_]+)+\.?$`)

// localeKeys flattens a locale file into its message IDs.
func localeKeys(t *testing.T, lang string) map[string]bool {
	t.Helper()
	var tree map[string]any
	if _, err := toml.DecodeFile(filepath.Join("..", "locales", "active."+lang+".toml"), &tree); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			id := k
			if prefix != "" {
				id = prefix + "." + k
			}
			sub, ok := v.(map[string]any)
			if !ok {
				keys[id] = true
				continue
			}
			// A plural message is a table of forms; it is one ID.
			if _, plural := sub["other"]; plural {
				keys[id] = true
				continue
			}
			walk(id, sub)
		}
	}
	walk("", tree)
	return keys
}

// TestMessageIDsInCode finds every message ID the flows render from code
// (Turn.Say, Turn.T, Turn.N, UserError.MsgID, a validator's problem) by
// scanning the package's source, and checks both locales have it. The
// declared ones (prompts, button labels, titles) are checked by bot.New.
func TestMessageIDsInCode(t *testing.T) {
	en, he := localeKeys(t, "en"), localeKeys(t, "he")
	tables := map[string]bool{}
	for id := range en {
		tables[strings.SplitN(id, ".", 2)[0]] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := map[string]string{} // id → where
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !messageID.MatchString(s) || !tables[strings.SplitN(s, ".", 2)[0]] {
				return true
			}
			found[s] = fset.Position(lit.Pos()).String()
			return true
		})
	}
	if len(found) < 50 {
		t.Fatalf("found only %d message IDs in code: the scan is broken", len(found))
	}
	t.Logf("%d message IDs in code", len(found))
	// Prefixes are completed with these values at run time.
	completions := map[string][]string{
		"plan.status.":     {string(portal.PlanPending), string(portal.PlanActive), string(portal.PlanExpired), string(portal.PlanSuspended)},
		"plan.lang.":       {string(portal.LangHebrew), string(portal.LangEnglish)},
		"apn.via.":         {string(portal.APNBySMS), string(portal.APNByEmail)},
		"order.status.":    {string(portal.OrderPending), string(portal.OrderProcessing), string(portal.OrderShipped), string(portal.OrderDelivered), string(portal.OrderCancelled)},
		"shipment.status.": {string(portal.ShipmentLabelCreated), string(portal.ShipmentPickedUp), string(portal.ShipmentInTransit), string(portal.ShipmentOutForDelivery), string(portal.ShipmentDelivered), string(portal.ShipmentException)},
		"support.status.":  {string(portal.TicketOpen), string(portal.TicketPending), string(portal.TicketClosed)},
		"carrier.":         {string(portal.CarrierUPS), string(portal.CarrierFedEx), string(portal.CarrierUSPS), string(portal.CarrierDHL), string(portal.CarrierIsraelPost)},
	}
	var ids []string
	for id := range found {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		want := []string{id}
		if strings.HasSuffix(id, ".") {
			vals, ok := completions[id]
			if !ok {
				t.Errorf("%s: prefix %q is completed at run time; list its values in this test", found[id], id)
				continue
			}
			want = nil
			for _, v := range vals {
				want = append(want, id+v)
			}
		}
		for _, w := range want {
			if !en[w] {
				t.Errorf("%s: %s missing in English", found[id], w)
			}
			if !he[w] {
				t.Errorf("%s: %s missing in Hebrew", found[id], w)
			}
		}
	}
}
