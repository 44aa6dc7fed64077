package console_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot"
	"supportbot/bot/console"
)

// openPTY opens a pseudo-terminal: what is written to master is typed on
// tty. It skips the test where there are none.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("TIOCGPTN: %v", e)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("TIOCSPTLCK: %v", e)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("open tty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	// Drain the terminal's echo, so a full buffer never blocks it.
	go io.Copy(io.Discard, master)
	return master, tty
}

// prompts is the console's output: it signals each "> " prompt.
type prompts chan struct{}

func (p prompts) Write(b []byte) (int, error) {
	if string(b) == "> " {
		p <- struct{}{}
	}
	return len(b), nil
}

// TestHiddenPrompt types at password prompts on a terminal, one key
// sequence per prompt: a digit is the password, not a button; Ctrl-D (or
// Ctrl-C) ends the chat as elsewhere.
func TestHiddenPrompt(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string      // typed at each prompt in turn
		want []bot.Inbound // Text and Data of each update after /start
	}{
		{"digit is the password", []string{"1\r", "\x04"}, []bot.Inbound{{Text: "1"}}},
		{"Ctrl-D at once", []string{"\x04"}, nil},
		{"Ctrl-C", []string{"\x03"}, nil},
		{"backspace, Ctrl-D mid-line", []string{"ab\x7fc\x04\r", "\x04"}, []bot.Inbound{{Text: "ac"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master, tty := openPTY(t)
			f := &fakeEngine{reply: func(bot.Inbound) bot.Reply {
				return bot.Reply{Text: "Password?", Secret: true, Buttons: [][]bot.Button{{{Label: "Forgot", Data: "forgot"}}}}
			}}
			out := make(prompts, len(tc.keys)+1)
			done := make(chan error, 1)
			go func() { done <- console.New(f, tty, out, console.Options{}).Run(context.Background()) }()
			deadline := time.After(15 * time.Second)
			for _, k := range tc.keys {
				select {
				case <-out:
				case err := <-done:
					t.Fatalf("Run = %v before %q was typed", err, k)
				case <-deadline:
					t.Fatalf("no prompt for %q", k)
				}
				if _, err := master.Write([]byte(k)); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run = %v, want nil", err)
				}
			case <-deadline:
				t.Fatal("Run did not end")
			}
			var got []bot.Inbound
			for _, in := range f.got[1:] {
				got = append(got, bot.Inbound{Text: in.Text, Data: in.Data})
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("engine got (-got +want):\n%s", diff)
			}
		})
	}
}
