package wire

import (
	"fmt"
	"io"
)

// channelVersion is the channel this SDK speaks (ChannelRequest): 3, the
// two pipes with sealed messages (2 had them unsealed).
const channelVersion = 3

// maxCallBytes caps a call the plugin reads from its channel: the largest
// request body a plugin may ask for, and room for the headers (the gRPC
// server's default limit is the same).
const maxCallBytes = 4 << 20

// msgReader reads length-prefixed messages. What a read brought in stays
// in its buffer when the read fails, so a read deadline that cuts a
// message in two loses nothing: the next call goes on from there. The
// buffer grows with the bytes that arrive, never on a length alone, and
// shrinks back once a big message is read.
type msgReader struct {
	r          io.Reader
	max        int // largest message accepted
	buf        []byte
	start, end int // the unread bytes are buf[start:end]

	// header is the size of a message's header and length reads the
	// message's size from it, once per message (a sealed header opens
	// once); size is that length until the message is returned, else -1.
	header int
	length func(header []byte) (uint32, error)
	size   int
}

// smallBuf is a msgReader's buffer when messages are small.
const smallBuf = 16 << 10

// newHeaderReader reads messages of at most max bytes, each after a
// header of size bytes from which length reads the message's size.
func newHeaderReader(r io.Reader, max, size int, length func([]byte) (uint32, error)) *msgReader {
	if max <= 0 || max > 1<<30 {
		max = 1 << 30
	}
	return &msgReader{r: r, max: max, buf: make([]byte, smallBuf), header: size, length: length, size: -1}
}

// next returns the next message; it is valid until the following call.
func (m *msgReader) next() ([]byte, error) {
	for {
		if m.size < 0 && m.end-m.start >= m.header {
			n, err := m.length(m.buf[m.start : m.start+m.header])
			if err != nil {
				return nil, err
			}
			if uint64(n) > uint64(m.max) {
				return nil, &tooBigError{size: uint64(n), max: m.max}
			}
			m.size = int(n)
		}
		need := m.header // the header first
		if m.size >= 0 {
			need += m.size
			if m.end-m.start >= need {
				msg := m.buf[m.start+m.header : m.start+need]
				m.start += need
				m.size = -1
				return msg, nil
			}
		}
		m.makeRoom(need)
		k, err := m.r.Read(m.buf[m.end:])
		m.end += k
		if err != nil && k == 0 {
			return nil, err
		}
	}
}

// tooBigError is a message over a reader's limit.
type tooBigError struct {
	size uint64
	max  int
}

func (e *tooBigError) Error() string {
	return fmt.Sprintf("a %d-byte message; the limit is %d", e.size, e.max)
}

// makeRoom makes room to read more of a message of need bytes (its
// length included): the unread bytes move to the front, a buffer grown
// for a big message goes back to the small size, and a full buffer
// doubles (at most to need).
func (m *msgReader) makeRoom(need int) {
	unread := m.end - m.start
	switch {
	case len(m.buf) > smallBuf && unread <= smallBuf/2 && need <= smallBuf:
		small := make([]byte, smallBuf)
		m.end = copy(small, m.buf[m.start:m.end])
		m.start, m.buf = 0, small
	case m.start > 0 && len(m.buf)-m.start < need:
		copy(m.buf, m.buf[m.start:m.end])
		m.start, m.end = 0, unread
	}
	if m.end == len(m.buf) {
		grown := make([]byte, min(need, 2*len(m.buf)))
		m.end = copy(grown, m.buf[m.start:m.end])
		m.start, m.buf = 0, grown
	}
}
