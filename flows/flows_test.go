package flows_test

import (
	"os"
	"path/filepath"
	"testing"

	"supportbot/flows"
	"supportbot/portal"
)

// TestDiagrams keeps a Mermaid diagram of each flow in testdata/<flow>.mmd,
// so a change to a flow's graph shows up as a diff (-update rewrites them).
func TestDiagrams(t *testing.T) {
	for _, f := range flows.All(portal.NewClient("http://127.0.0.1:0"), nil) {
		t.Run(f.Name, func(t *testing.T) {
			got, err := f.Mermaid()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", f.Name+".mmd")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./flows -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s graph changed (run go test ./flows -update and review):\n%s", f.Name, lineDiff(string(want), got))
			}
		})
	}
}
