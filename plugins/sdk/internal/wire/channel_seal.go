package wire

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"io"

	"google.golang.org/protobuf/proto"
)

// channelKeySize is the length of a channel's key (AES-128).
const channelKeySize = 16

// The directions, the first byte of every nonce, so that a message cannot
// be played back the other way.
const (
	callsWay   byte = 'C'
	answersWay byte = 'A'
)

// The parts of a message, the second byte of its nonces: its header (the
// body's length) and its body are sealed apart, so that a reader learns
// a length only once it opened, and a forged one breaks the channel at
// once rather than making the reader wait for bytes that never come.
const (
	headerPart byte = 'H'
	bodyPart   byte = 'B'
)

// sealedHeader is the size of a message's sealed header: its body's length
// (4 bytes) and the tag.
const sealedHeader = 4 + 16

// frameSeal seals the messages that go one way on the channel, or opens
// them: AES-GCM under the channel's key, the nonce being the direction,
// the part and the message's number. The host makes the key and sends it
// only over go-plugin's mutual-TLS connection (OpenChannel), whose peer it
// checks is the process it started. Any process of the same user can open
// the pipes through /proc/<pid>/fd; without the key such a process reads
// nothing of the calls and cannot write a call or an answer that opens,
// and a message it takes out of a pipe or slips in makes the next one fail
// to open, which ends the channel (calls then go through gRPC). It does
// see the sizes and times of the messages. Root, or a process allowed to
// ptrace the host or the plugin, can read the key from memory.
type frameSeal struct {
	aead  cipher.AEAD
	nonce [12]byte // the direction, the part, zeros, the number
	n     uint64
}

// newFrameSeals makes the seals of a channel's two ways, calls and
// answers, on one AES-GCM instance (which is safe for concurrent use).
func newFrameSeals(key []byte) (calls, answers *frameSeal, err error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	calls, answers = &frameSeal{aead: aead}, &frameSeal{aead: aead}
	calls.nonce[0], answers.nonce[0] = callsWay, answersWay
	return calls, answers, nil
}

// numberNext moves to the next message's number.
func (s *frameSeal) numberNext() {
	s.n++
	binary.BigEndian.PutUint64(s.nonce[4:], s.n)
}

// part is the nonce of the current message's header or body.
func (s *frameSeal) part(p byte) []byte {
	s.nonce[1] = p
	return s.nonce[:]
}

// appendSealed appends msg to buf, sealed: its sealed header, then its
// sealed body.
func (s *frameSeal) appendSealed(buf []byte, msg proto.Message) ([]byte, error) {
	out, err := proto.MarshalOptions{}.MarshalAppend(append(buf, make([]byte, sealedHeader)...), msg)
	if err != nil {
		return buf, err
	}
	return s.seal(out, len(buf)), nil
}

// seal seals the message at out[start:], whose body (plain) follows the
// room for its header, as the next message.
func (s *frameSeal) seal(out []byte, start int) []byte {
	s.numberNext()
	bodyAt := start + sealedHeader
	// In place: the sealed body takes the plain body's room, plus the tag.
	out = s.aead.Seal(out[:bodyAt], s.part(bodyPart), out[bodyAt:], nil)
	var length [4]byte
	binary.BigEndian.PutUint32(length[:], uint32(len(out)-bodyAt))
	s.aead.Seal(out[start:start], s.part(headerPart), length[:], nil) // fills the header's room
	return out
}

// errUnsealed is a message that did not open with the channel's key and
// its number.
var errUnsealed = errors.New("a message on the calls' channel did not open with the channel's key (another process read or wrote its pipes, or the peer speaks another format)")

// openHeader opens the next message's header and returns its body's
// length.
func (s *frameSeal) openHeader(header []byte) (uint32, error) {
	s.numberNext()
	var length [4]byte
	if _, err := s.aead.Open(length[:0], s.part(headerPart), header, nil); err != nil {
		return 0, errUnsealed
	}
	return binary.BigEndian.Uint32(length[:]), nil
}

// openBody opens the current message's body in place.
func (s *frameSeal) openBody(body []byte) ([]byte, error) {
	plain, err := s.aead.Open(body[:0], s.part(bodyPart), body, nil)
	if err != nil {
		return nil, errUnsealed
	}
	return plain, nil
}

// sealedReader reads the messages s opens from r, whose bodies hold at
// most max bytes once opened (0: no limit but msgReader's).
func sealedReader(r io.Reader, max int, s *frameSeal) *msgReader {
	if max > 0 {
		max += s.aead.Overhead() // the limit is on what the body holds, as on gRPC
	}
	return newHeaderReader(r, max, sealedHeader, s.openHeader)
}
