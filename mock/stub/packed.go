package stub

import (
	"encoding/binary"
	"net/http"
)

// Pack writes r into one byte slice, which Unpack reads back. The journal
// keeps requests packed: ten thousand entries are then ten thousand
// objects without pointers, which the garbage collector does not look
// into, in place of the maps, slices and strings of ten thousand
// requests, which it walks on every cycle.
func (r *Request) Pack() []byte {
	fields := [...]string{r.Method, r.Scheme, r.Host, r.Path, r.RawQuery}
	// Room for the fields, the body and a few headers of common length:
	// counting the headers' bytes first would walk the map twice.
	size := len(r.Body) + 64*(1+len(r.Header))
	for _, f := range fields {
		size += len(f) + 1
	}
	b := make([]byte, 0, size)
	for _, f := range fields {
		b = appendString(b, f)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Header)))
	for name, vs := range r.Header {
		b = appendString(b, name)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	return append(b, r.Body...)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// Unpack is the request Pack wrote into b.
func Unpack(b []byte) *Request {
	u := unpacker{b}
	method, scheme, host, path, rawQuery := u.string(), u.string(), u.string(), u.string(), u.string()
	n := u.count()
	header := make(http.Header, n)
	for range n {
		name := u.string()
		vs := make([]string, u.count())
		for i := range vs {
			vs[i] = u.string()
		}
		header[name] = vs
	}
	var body []byte
	if len(u.b) > 0 {
		body = append([]byte(nil), u.b...)
	}
	return newRequest(method, scheme, host, path, rawQuery, header, body)
}

// unpacker reads what Pack wrote. Only Pack writes what it reads, so it
// does not report errors; on bytes Pack did not write it still returns
// (wrong) values rather than fail.
type unpacker struct{ b []byte }

func (u *unpacker) count() int {
	n, k := binary.Uvarint(u.b)
	if k <= 0 {
		u.b = nil
		return 0
	}
	u.b = u.b[k:]
	return int(min(n, uint64(len(u.b)))) // every item takes a byte at least
}

func (u *unpacker) string() string {
	n := u.count()
	s := string(u.b[:n])
	u.b = u.b[n:]
	return s
}
