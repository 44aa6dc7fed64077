package portal

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

func TestOperation(t *testing.T) {
	tests := []struct{ method, path, want string }{
		{"PUT", "/v1/plans/P-2001/sim", "PUT /v1/plans/{id}/sim"},
		{"GET", "/v1/plans/P-2001", "GET /v1/plans/{id}"},
		{"GET", "/v1/plans", "GET /v1/plans"},
		{"GET", "/v1/orders?page=2&per_page=5", "GET /v1/orders"},
		{"GET", "/v1/orders/SB-104233", "GET /v1/orders/{id}"},
		{"POST", "/v1/guest/orders/lookup", "POST /v1/guest/orders/lookup"},
		{"DELETE", "/v1/me/emails/E-17", "DELETE /v1/me/emails/{id}"},
		{"POST", "/v1/tickets/T-9/messages", "POST /v1/tickets/{id}/messages"},
		{"POST", "/v1/guest/tickets/T-9/rating", "POST /v1/guest/tickets/{id}/rating"},
		{"GET", "/v1/staff/tickets/T-9", "GET /v1/staff/tickets/{id}"},
		{"GET", "/v1/staff/customers?q=dana%40example.com", "GET /v1/staff/customers"},
		{"GET", "/v1/plans/P-2001/unknown-thing", "GET other"},
		{"GET", "/v1/secret-token-abc", "GET other"},
		{"GET", "/v1/plans//sim", "GET other"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			if got := operation(tt.method, tt.path); got != tt.want {
				t.Errorf("operation(%q, %q) = %q, want %q", tt.method, tt.path, got, tt.want)
			}
		})
	}
}

// TestRoutesMatchContract keeps routes in step with openapi.yaml.
func TestRoutesMatchContract(t *testing.T) {
	spec, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, m := range regexp.MustCompile(`(?m)^  (/v1/\S*):\s*$`).FindAllStringSubmatch(string(spec), -1) {
		paths = append(paths, regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(m[1], "{id}"))
	}
	if len(paths) == 0 {
		t.Fatal("no paths found in openapi.yaml")
	}
	slices.Sort(paths)
	got := slices.Sorted(slices.Values(routes))
	if !slices.Equal(got, paths) {
		t.Errorf("routes = %q\nopenapi.yaml paths = %q", got, paths)
	}
}
