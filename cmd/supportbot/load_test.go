package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestLoad runs the load tool briefly: customers complete guest
// conversations through the whole bot, with no errors.
func TestLoad(t *testing.T) {
	logs := newLogBuffer()
	res, err := load(context.Background(), loadConfig{
		Users: 5, Duration: time.Second, DemoCustomers: 3, DataDir: t.TempDir(), StepTimeout: 10 * time.Second,
	}, logs)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, logs.String())
	}
	if s := logs.String(); s != "" {
		t.Logf("bot logs:\n%s", s)
	}
	var out bytes.Buffer
	res.print(&out)
	t.Logf("\n%s", out.String())
	if res.Steps == 0 || res.Conversations == 0 {
		t.Errorf("steps %d, conversations %d; want some of each", res.Steps, res.Conversations)
	}
	if res.Errors != 0 {
		t.Errorf("%d errors: %q", res.Errors, res.Samples)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
		t.Errorf("latencies p50 %s, p99 %s, max %s are not ordered", res.P50, res.P99, res.Max)
	}
}

func TestLoadFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{{"--users", "x"}, {"extra"}} {
		if err := run(context.Background(), append([]string{"load"}, args...), strings.NewReader(""), &stdout, &stderr); !errors.Is(err, errUsage) {
			t.Errorf("load %q = %v, want errUsage", args, err)
		}
	}
	if err := run(context.Background(), []string{"load", "--users", "0"}, strings.NewReader(""), &stdout, &stderr); err == nil || errors.Is(err, errUsage) {
		t.Errorf("load --users 0 = %v, want a validation error", err)
	}
}
