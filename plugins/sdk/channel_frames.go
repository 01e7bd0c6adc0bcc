package sdk

import (
	"encoding/binary"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
)

// channelVersion is the channel framing this SDK speaks (ChannelRequest).
const channelVersion = 1

// tokenSize is the length of a channel's token.
const tokenSize = 32

// maxCallBytes caps a call the plugin reads from its channel: the largest
// request body a plugin may ask for, and room for the headers (the gRPC
// server's default limit is the same).
const maxCallBytes = 4 << 20

// msgReader reads length-prefixed messages. What a read brought in stays
// in its buffer when the read fails, so a read deadline that cuts a
// message in two loses nothing: the next call goes on from there.
type msgReader struct {
	r          io.Reader
	max        int // largest message accepted (0: no limit)
	buf        []byte
	start, end int // the unread bytes are buf[start:end]
}

func newMsgReader(r io.Reader, max int) *msgReader {
	return &msgReader{r: r, max: max, buf: make([]byte, 16<<10)}
}

// next returns the next message; it is valid until the following call.
func (m *msgReader) next() ([]byte, error) {
	for {
		if have := m.end - m.start; have >= 4 {
			n := int(binary.BigEndian.Uint32(m.buf[m.start:]))
			if m.max > 0 && n > m.max {
				return nil, &tooBigError{size: n, max: m.max}
			}
			if have >= 4+n {
				msg := m.buf[m.start+4 : m.start+4+n]
				m.start += 4 + n
				return msg, nil
			}
			m.makeRoom(4 + n)
		} else {
			m.makeRoom(4)
		}
		k, err := m.r.Read(m.buf[m.end:])
		m.end += k
		if err != nil && k == 0 {
			return nil, err
		}
	}
}

// tooBigError is a message over a reader's limit.
type tooBigError struct{ size, max int }

func (e *tooBigError) Error() string {
	return fmt.Sprintf("a %d-byte message; the limit is %d", e.size, e.max)
}

// makeRoom moves the unread bytes to the front, and grows the buffer when
// a message of size bytes (length included) would not fit. A buffer grown
// for a big message shrinks back once it is read.
func (m *msgReader) makeRoom(size int) {
	unread := m.end - m.start
	switch {
	case unread == 0:
		if len(m.buf) > 64<<10 {
			m.buf = make([]byte, 16<<10)
		}
		m.start, m.end = 0, 0
	case m.start > 0 && len(m.buf)-m.start < size:
		copy(m.buf, m.buf[m.start:m.end])
		m.start, m.end = 0, unread
	}
	if len(m.buf)-m.start < size {
		grown := make([]byte, max(size, 2*len(m.buf)))
		m.end = copy(grown, m.buf[m.start:m.end])
		m.start = 0
		m.buf = grown
	}
}

// appendMsg appends msg to buf after its length.
func appendMsg(buf []byte, msg proto.Message) ([]byte, error) {
	buf = append(buf, 0, 0, 0, 0)
	out, err := proto.MarshalOptions{}.MarshalAppend(buf, msg)
	if err != nil {
		return buf[:len(buf)-4], err
	}
	binary.BigEndian.PutUint32(out[len(buf)-4:], uint32(len(out)-len(buf)))
	return out, nil
}
