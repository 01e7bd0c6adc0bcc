package httpx

import (
	"bufio"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// newlineToSpace turns line breaks in values into spaces, as net/http does.
var newlineToSpace = strings.NewReplacer("\r", " ", "\n", " ")

// WriteHeader writes every field of h whose name skip does not list, as
// "Name: value\r\n" lines. Like net/http it drops fields with invalid
// names and turns line breaks in values into spaces, so that a value can
// never start a field of its own.
func WriteHeader(bw *bufio.Writer, h http.Header, skip map[string]bool) {
	for k, vv := range h {
		if skip[k] || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range vv {
			WriteField(bw, k, v)
		}
	}
}

// WriteField writes one "name: value\r\n" line; name must be valid.
func WriteField(bw *bufio.Writer, name, value string) {
	if strings.IndexByte(value, '\r') >= 0 || strings.IndexByte(value, '\n') >= 0 {
		value = newlineToSpace.Replace(value)
	}
	bw.WriteString(name)
	bw.WriteString(": ")
	bw.WriteString(trimOWS(value))
	bw.WriteString("\r\n")
}

// trimOWS is strings.Trim(s, " \t") without the cutset set-up that
// strings.Trim pays on every call: it runs for every field read or written.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// WriteTrailerNames writes a "Trailer:" field announcing the names in trailer.
func WriteTrailerNames(bw *bufio.Writer, trailer http.Header) {
	bw.WriteString("Trailer: ")
	first := true
	for k := range trailer {
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		if !first {
			bw.WriteByte(',')
		}
		bw.WriteString(k)
		first = false
	}
	bw.WriteString("\r\n")
}
