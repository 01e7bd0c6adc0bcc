//go:build !unix

package httpx

// peekable: connections here cannot be peeked at.
const peekable = false

// peeked reports whether c was ever peeked at: never, here.
func (c *h1conn) peeked() bool { return false }
