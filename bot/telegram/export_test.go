package telegram

// SetPendingPage sets how many pending envelopes c's Run reads from the
// engine at a time (default 10,000), so tests can page through a few.
func SetPendingPage(c *Channel, n int) { c.out.page = n }

// WorkersStarted is how many worker goroutines c's running dispatcher has
// started.
func WorkersStarted(c *Channel) int {
	d := c.disp.Load()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.started
}
