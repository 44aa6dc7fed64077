package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal and returns its terminal side, or skips
// the test where there are none.
func openPTY(t *testing.T) *os.File {
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
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("open tty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	go io.Copy(io.Discard, master) // what the terminal shows
	return tty
}

// TestLogsLeaveTheChat: when stderr is the terminal the chat runs in, logs
// go to <data-dir>/supportbot.log; otherwise to stderr.
func TestLogsLeaveTheChat(t *testing.T) {
	clearEnv(t)
	tty, other := openPTY(t), openPTY(t)
	for _, tc := range []struct {
		name           string
		stdin          io.Reader
		stdout, stderr io.Writer
		toFile         bool
	}{
		{"chat on stderr's terminal", tty, tty, tty, true},
		{"input only from stderr's terminal", tty, &bytes.Buffer{}, tty, true},
		{"stderr redirected", tty, tty, &bytes.Buffer{}, false},
		{"stderr on another terminal", other, other, tty, false},
		{"chat piped", strings.NewReader(""), &bytes.Buffer{}, tty, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain()
			m.Config.DataDir = t.TempDir()
			m.Stdin, m.Stdout, m.Stderr = tc.stdin, tc.stdout, tc.stderr
			if err := m.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			m.Logger.Warn("probe warning")
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(m.Config.DataDir, "supportbot.log"))
			if inFile := err == nil && bytes.Contains(b, []byte("probe warning")); inFile != tc.toFile {
				t.Errorf("warning in the log file: %v, want %v (%q, %v)", inFile, tc.toFile, b, err)
			}
			if buf, ok := tc.stderr.(*bytes.Buffer); ok && !strings.Contains(buf.String(), "probe warning") {
				t.Errorf("warning not on stderr: %q", buf.String())
			}
		})
	}
}
