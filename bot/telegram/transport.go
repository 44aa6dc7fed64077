package telegram

import (
	"bytes"
	"io"
	"net/http"
)

// bufferedClient returns a copy of hc whose requests carry their whole
// body with a Content-Length. go-telegram streams each multipart form
// through a pipe, which the HTTP client sends chunked with a socket write
// per form field; buffering the (small) body first makes it one write.
func bufferedClient(hc *http.Client) *http.Client {
	c := *hc
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = bufferBody{next}
	return &c
}

type bufferBody struct{ next http.RoundTripper }

func (b bufferBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength > 0 {
		return b.next.RoundTrip(r)
	}
	data, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.ContentLength = int64(len(data))
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return b.next.RoundTrip(r)
}
