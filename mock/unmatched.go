package mock

import (
	"bytes"
	"io"
	"net/http"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// serveUnmatched hands an unmatched request to h (Options.Unmatched)
// with its body, which serveStub has read, readable again, and keeps
// what h answered for the journal.
func serveUnmatched(h http.Handler, w http.ResponseWriter, r *http.Request, body []byte) stub.Served {
	r.Body = io.NopCloser(bytes.NewReader(body))
	c := &capture{ResponseWriter: w}
	h.ServeHTTP(c, r)
	if c.status == 0 {
		c.status = http.StatusOK // h wrote nothing: net/http sends 200
	}
	header := c.header
	if header == nil {
		header = w.Header().Clone()
	}
	return stub.Served{Status: c.status, Header: header, Body: c.body.Bytes()}
}

// capture is a ResponseWriter that keeps a copy of the status, headers
// and body written through it.
type capture struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
}

func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status, c.header = status, c.ResponseWriter.Header().Clone()
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }
