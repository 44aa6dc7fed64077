package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the layout honest: which packages of this module
// each package may import, and that each SDK has exactly one importer.
func TestImportRules(t *testing.T) {
	allowed := map[string][]string{
		"supportbot/bot":                       {},
		"supportbot/bot/console":               {"supportbot/bot"},
		"supportbot/bot/telegram":              {"supportbot/bot"},
		"supportbot/bot/telegram/telegramtest": {},
		"supportbot/bot/slack":                 {"supportbot/bot", "supportbot/portal"},
		"supportbot/bot/slack/slackfake":       {},
		"supportbot/flows":                     {"supportbot/bot", "supportbot/portal"},
		"supportbot/store":                     {"supportbot/bot"},
		"supportbot/store/etcd":                {"supportbot/bot", "supportbot/store"},
		"supportbot/store/etcd/etcdtest":       {},
		"supportbot/portal":                    {},
		"supportbot/portal/demo":               {"supportbot/portal"},
		"supportbot/locales":                   {},
	}
	sdkOwner := map[string]string{
		"github.com/go-telegram/bot":          "supportbot/bot/telegram",
		"github.com/slack-go/slack":           "supportbot/bot/slack",
		"go.etcd.io/bbolt":                    "supportbot/store",
		"go.etcd.io/etcd/server":              "supportbot/store/etcd/etcdtest",
		"github.com/prometheus/client_golang": "supportbot/cmd/supportbot",
		"github.com/prometheus/common":        "supportbot/cmd/supportbot",
		"github.com/prometheus/client_model":  "supportbot/cmd/supportbot",
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "supportbot/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			for sdk, owner := range sdkOwner {
				if (imp == sdk || strings.HasPrefix(imp, sdk+"/")) && pkg != owner && !strings.HasPrefix(pkg, owner+"/") {
					t.Errorf("%s imports %s; only %s may", pkg, imp, owner)
				}
			}
			if !strings.HasPrefix(imp, "supportbot/") {
				continue
			}
			may, ruled := allowed[pkg]
			if !ruled {
				continue // cmd/supportbot may import everything
			}
			ok := false
			for _, m := range may {
				ok = ok || m == imp
			}
			if !ok {
				t.Errorf("%s imports %s, which the layout does not allow", pkg, imp)
			}
		}
	}
}
