package main

import "testing"

// TestSupersededScreensMetric: each screen the Telegram outbox drops as
// superseded counts in supportbot_superseded_screens_total.
func TestSupersededScreensMetric(t *testing.T) {
	m := newMetrics()
	m.Superseded()
	m.Superseded()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "supportbot_superseded_screens_total" {
			if got := f.GetMetric()[0].GetCounter().GetValue(); got != 2 {
				t.Errorf("supportbot_superseded_screens_total = %v, want 2", got)
			}
			return
		}
	}
	t.Error("supportbot_superseded_screens_total not registered")
}
