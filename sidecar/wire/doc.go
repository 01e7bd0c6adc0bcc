// Package wire writes HTTP/1.1 message heads for the sidecar's own
// HTTP/1.1 client (handlers/transport) and server (proxy): header fields
// written straight into a bufio.Writer, sanitised the way net/http does
// it, without the sorting and the string building of http.Header.Write;
// heads read in place; and the body, status and connection rules the
// client and the server share.
package wire
