//go:build unix

package httpx

// peekable: connections here can be peeked at.
const peekable = true

// peeked reports whether c was ever peeked at.
func (c *h1conn) peeked() bool { return c.probe.rc != nil }
