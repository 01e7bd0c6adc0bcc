package wire

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
	if strings.ContainsAny(value, "\r\n") {
		value = newlineToSpace.Replace(value)
	}
	bw.WriteString(name)
	bw.WriteString(": ")
	bw.WriteString(strings.Trim(value, " \t"))
	bw.WriteString("\r\n")
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
