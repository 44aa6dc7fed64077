package main

import (
	"testing"
	"time"
)

// TestAPILimits: the fake Bot API's limits let a chat burst 3 messages,
// then one a second, and all chats 30 a second in a burst of 30.
func TestAPILimits(t *testing.T) {
	l := newAPILimits()
	now := time.Unix(1700000000, 0)
	for i := range 3 {
		if ok, _ := l.admit(1, now); !ok {
			t.Fatalf("chat message %d of the burst refused", i+1)
		}
	}
	if ok, wait := l.admit(1, now); ok || wait <= 0 || wait > time.Second {
		t.Errorf("4th message at once: admitted %v, wait %v; want refused with a wait up to 1s", ok, wait)
	}
	if ok, _ := l.admit(1, now.Add(time.Second)); !ok {
		t.Errorf("message a second later refused")
	}
	// All chats: a burst of 30 at once, then no more.
	l = newAPILimits()
	for chat := int64(1); chat <= 30; chat++ {
		if ok, _ := l.admit(chat, now); !ok {
			t.Fatalf("chat %d refused within the global burst", chat)
		}
	}
	if ok, _ := l.admit(31, now); ok {
		t.Errorf("31st message of the global burst admitted")
	}
}
