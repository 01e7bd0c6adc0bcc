package httpx

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// PeekHead returns a message head, up to and including the empty line
// that ends it, without consuming it. It reports false when the head does
// not end with CRLF CRLF within the reader's buffer, uses a bare LF, or
// the connection failed: the caller then reads the message with net/http,
// which also reports the error.
func PeekHead(br *bufio.Reader) ([]byte, bool) {
	from := 0
	for n := 1; ; {
		if _, err := br.Peek(n); err != nil {
			return nil, false
		}
		b, _ := br.Peek(br.Buffered()) // everything already here
		if i := bytes.Index(b[from:], []byte("\n\r\n")); i >= 0 {
			end := from + i + 3
			// textproto accepts bare LF line ends; they go to net/http.
			if bytes.Count(b[:end], []byte("\n")) != bytes.Count(b[:end], []byte("\r\n")) {
				return nil, false
			}
			return b[:end], true
		}
		if bytes.Contains(b[max(from-1, 0):], []byte("\n\n")) || len(b) == br.Size() {
			return nil, false
		}
		from = max(len(b)-2, 0)
		n = len(b) + 1
	}
}

// ParseFields parses the header lines of a head (each ending in CRLF,
// the empty line excluded) as textproto does: canonical keys, values
// trimmed of spaces and tabs. It reports false for anything textproto
// would refuse or treat specially (folded lines, invalid names or
// values), which the caller leaves to net/http. Values are cut from
// lines, so the header shares its memory with the head string.
func ParseFields(lines string) (http.Header, bool) {
	n := strings.Count(lines, "\r\n")
	h := make(http.Header, n)
	values := make([]string, n)
	for i := 0; i < n; i++ {
		var line string
		line, lines, _ = strings.Cut(lines, "\r\n")
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			return nil, false
		}
		k, v, found := strings.Cut(line, ":")
		if !found || !httpguts.ValidHeaderFieldName(k) || !validValue(v) {
			return nil, false
		}
		key := textproto.CanonicalMIMEHeaderKey(k)
		v = trimOWS(v)
		if vv := h[key]; vv != nil {
			h[key] = append(vv, v)
		} else {
			values[i] = v
			h[key] = values[i : i+1 : i+1]
		}
	}
	return h, true
}

// validValue reports whether a header value has only bytes textproto
// accepts: visible characters, space, tab and obs-text.
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// FixPragma makes "Pragma: no-cache" imply "Cache-Control: no-cache", as
// net/http does when it reads a message.
func FixPragma(h http.Header) {
	if hp := h["Pragma"]; len(hp) > 0 && hp[0] == "no-cache" {
		if _, cc := h["Cache-Control"]; !cc {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
}
