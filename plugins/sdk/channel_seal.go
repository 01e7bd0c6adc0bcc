package sdk

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"slices"

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

// frameSeal seals the messages that go one way on the channel, or opens
// them: AES-GCM under the channel's key, with the direction and the
// message's number as the nonce. The host makes the key and sends it only
// over go-plugin's mutual-TLS connection (OpenChannel). Any process of the
// same user can open the pipes through /proc/<pid>/fd; such a process
// reads nothing of the calls, cannot write a message that opens, and one
// it takes out of a pipe makes the next fail to open, which ends the
// channel (calls then go through gRPC).
type frameSeal struct {
	aead  cipher.AEAD
	nonce [12]byte // the direction, zeros, the number
	n     uint64
}

func newFrameSeal(key []byte, way byte) (*frameSeal, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	s := &frameSeal{aead: aead}
	s.nonce[0] = way
	return s, nil
}

// next numbers the next message.
func (s *frameSeal) next() []byte {
	s.n++
	binary.BigEndian.PutUint64(s.nonce[4:], s.n)
	return s.nonce[:]
}

// appendSealed appends msg to buf, sealed, after its sealed length.
func (s *frameSeal) appendSealed(buf []byte, msg proto.Message) ([]byte, error) {
	out, err := appendMsg(buf, msg)
	if err != nil {
		return out, err
	}
	out = slices.Grow(out, s.aead.Overhead()) // so that Seal works in place
	plain := out[len(buf)+4:]
	sealed := s.aead.Seal(plain[:0], s.next(), plain, nil)
	binary.BigEndian.PutUint32(out[len(buf):], uint32(len(sealed)))
	return out[:len(buf)+4+len(sealed)], nil
}

// errUnsealed is a message that did not open with the channel's key and
// its number.
var errUnsealed = errors.New("a message on the calls' channel did not open with the channel's key: another process read or wrote its pipes")

// open opens a sealed message in place.
func (s *frameSeal) open(sealed []byte) ([]byte, error) {
	plain, err := s.aead.Open(sealed[:0], s.next(), sealed, nil)
	if err != nil {
		return nil, errUnsealed
	}
	return plain, nil
}
