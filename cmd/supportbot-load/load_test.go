package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes (the bot's logs).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runLoad runs load with cfg and fails the test on an error of the run.
func runLoad(t *testing.T, cfg config) result {
	t.Helper()
	var logs syncBuffer
	res, err := load(context.Background(), cfg, &logs)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, logs.String())
	}
	if s := logs.String(); s != "" {
		t.Logf("bot logs:\n%s", s)
	}
	var out bytes.Buffer
	res.print(&out)
	t.Logf("\n%s", out.String())
	if res.Errors != 0 {
		t.Errorf("%d errors: %q", res.Errors, res.Samples)
	}
	return res
}

// checkDist checks that a latency distribution has values, in order.
func checkDist(t *testing.T, name string, d dist) {
	t.Helper()
	if d.N == 0 || d.P50 < 0 || d.P99 < d.P50 || d.Max < d.P99 {
		t.Errorf("%s: %d values, p50 %s, p99 %s, max %s; want some, ordered", name, d.N, d.P50, d.P99, d.Max)
	}
}

// TestLoad runs the load tool briefly: customers complete guest
// conversations through the whole bot, with no errors, and every figure of
// the report is measured.
func TestLoad(t *testing.T) {
	res := runLoad(t, config{
		Users: 5, Duration: time.Second, DemoCustomers: 3, DataDir: t.TempDir(), StepTimeout: 10 * time.Second,
	})
	if res.Steps == 0 || res.Conversations == 0 {
		t.Errorf("steps %d, conversations %d; want some of each", res.Steps, res.Conversations)
	}
	if res.Updates < res.Steps || res.Retries != 0 || res.Abandoned != 0 {
		t.Errorf("updates %d, retries %d, abandoned %d for %d steps in a closed loop", res.Updates, res.Retries, res.Abandoned, res.Steps)
	}
	if res.Calls["sendMessage"] < res.Steps {
		t.Errorf("%d sendMessage calls for %d steps; each step sends at least one message", res.Calls["sendMessage"], res.Steps)
	}
	checkDist(t, "latency", res.Latency)
	for name, d := range map[string]dist{"queue": res.Queue, "handling": res.Handling, "delivery": res.Delivery} {
		checkDist(t, name, d)
		if d.Max > res.Latency.Max {
			t.Errorf("%s max %s exceeds the step's max %s", name, d.Max, res.Latency.Max)
		}
	}
	if res.Handling.P50 == 0 {
		t.Error("handling took no time: the engine was not timed")
	}
	if res.PartCPU != nil && res.PartCPU[partBot] <= 0 {
		t.Errorf("no CPU sampled for the bot: %v", res.PartCPU)
	}
}

// TestLoadRush runs a short rush in which every customer is impatient:
// replies take longer than their patience, so they send steps again, and
// the bot still answers them without errors.
func TestLoadRush(t *testing.T) {
	res := runLoad(t, config{
		Users: 6, Duration: time.Second, DemoCustomers: 6, DataDir: t.TempDir(), StepTimeout: 2 * time.Second,
		Rush: true, Think: 20 * time.Millisecond, Impatient: 1, Patience: time.Millisecond,
	})
	if res.Steps == 0 {
		t.Error("no step answered")
	}
	if res.Retries == 0 || res.Updates <= res.Steps {
		t.Errorf("%d retries, %d updates for %d steps; want impatient customers to send again", res.Retries, res.Updates, res.Steps)
	}
	checkDist(t, "latency", res.Latency)
}

func TestFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{{"--users", "x"}, {"extra"}, {"--bogus"}} {
		if err := run(context.Background(), args, &stdout, &stderr); !errors.Is(err, errUsage) {
			t.Errorf("supportbot-load %q = %v, want errUsage", args, err)
		}
	}
	for _, args := range [][]string{{"--users", "0"}, {"--rush", "--impatient", "2"}, {"--rush", "--think", "0s"}} {
		if err := run(context.Background(), args, &stdout, &stderr); err == nil || errors.Is(err, errUsage) {
			t.Errorf("supportbot-load %q = %v, want a validation error", args, err)
		}
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"Usage: supportbot-load", "-users", "-rush", "-patience"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("-h printed no %q:\n%s", want, stdout.String())
		}
	}
}

// TestLoadHung runs the --hung scenario briefly: the hung customers' guest
// lookups are held at the portal for the whole run while the other
// customers' /help is answered, well before the held calls end.
func TestLoadHung(t *testing.T) {
	const duration = time.Second
	res := runLoad(t, config{
		Users: 3, Hung: 2, Duration: duration, DemoCustomers: -1, DataDir: t.TempDir(), StepTimeout: 10 * time.Second,
	})
	if res.Steps == 0 {
		t.Fatal("no /help answered while lookups hang")
	}
	if res.Latency.Max >= duration {
		t.Errorf("/help took up to %s while lookups hang, want far less than the run (%s)", res.Latency.Max, duration)
	}
}
