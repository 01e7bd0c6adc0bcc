package sdk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// frameSizeLimit is the largest frame the host accepts: HTTP/2's default
// SETTINGS_MAX_FRAME_SIZE, which the host never raises.
const frameSizeLimit = 16 << 10

// headerBlockLimit bounds a header block (headers or trailers) from the plugin.
const headerBlockLimit = 64 << 10

// frame is one HTTP/2 frame read from the plugin; payload points into the
// reader's buffer and is good until the next frame is read.
type frame struct {
	typ     http2.FrameType
	flags   http2.Flags
	stream  uint32
	payload []byte
}

// frameReader reads whole frames into a buffer it keeps across reads, so
// that a read cut short by a deadline loses nothing: the next reader
// carries on where it stopped.
type frameReader struct {
	conn net.Conn
	buf  []byte
	r, w int // unread bytes are buf[r:w]
}

func newFrameReader(conn net.Conn) *frameReader {
	return &frameReader{conn: conn, buf: make([]byte, 2*(9+frameSizeLimit))}
}

// next returns the next frame, reading from the connection as needed.
func (fr *frameReader) next() (frame, error) {
	need := 9
	for {
		if n := fr.w - fr.r; n >= 9 {
			h := fr.buf[fr.r:]
			length := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
			if length > frameSizeLimit {
				return frame{}, status.Errorf(codes.Internal, "plugin sent a %d-byte frame; the limit is %d", length, frameSizeLimit)
			}
			if n >= 9+length {
				f := frame{
					typ:     http2.FrameType(h[3]),
					flags:   http2.Flags(h[4]),
					stream:  binary.BigEndian.Uint32(h[5:9]) & (1<<31 - 1),
					payload: h[9 : 9+length],
				}
				fr.r += 9 + length
				return f, nil
			}
			need = 9 + length
		}
		if err := fr.fill(need); err != nil {
			return frame{}, err
		}
	}
}

// fill reads at least one byte, first making room for need unread bytes.
func (fr *frameReader) fill(need int) error {
	if len(fr.buf)-fr.r < need {
		fr.w = copy(fr.buf, fr.buf[fr.r:fr.w])
		fr.r = 0
	}
	n, err := fr.conn.Read(fr.buf[fr.w:])
	fr.w += n
	if n > 0 {
		return nil // an error comes back on the next read
	}
	if err == nil {
		err = errors.New("empty read")
	}
	return err
}

// unpad strips a frame's padding when its PADDED flag is set.
func unpad(f frame) ([]byte, error) {
	p := f.payload
	if f.flags&http2.FlagDataPadded == 0 { // the same bit for HEADERS
		return p, nil
	}
	if len(p) == 0 || int(p[0]) >= len(p) {
		return nil, protocolError("bad padding")
	}
	return p[1 : len(p)-int(p[0])], nil
}

// headerBlock collects a header block over HEADERS and CONTINUATION frames
// and decodes it. The decoder keeps state across blocks, so every block is
// decoded, wanted or not.
type headerBlock struct {
	dec       *hpack.Decoder
	frag      []byte
	stream    uint32
	endStream bool
	open      bool // a HEADERS frame awaits its CONTINUATION
}

// add takes one HEADERS or CONTINUATION frame and returns the decoded
// fields once the block is complete (done), with the stream it belongs to
// and whether it ends that stream.
func (hb *headerBlock) add(f frame) (fields []hpack.HeaderField, done bool, err error) {
	switch f.typ {
	case http2.FrameHeaders:
		if hb.open {
			return nil, false, protocolError("HEADERS inside a header block")
		}
		p, err := unpad(f)
		if err != nil {
			return nil, false, err
		}
		if f.flags&http2.FlagHeadersPriority != 0 {
			if len(p) < 5 {
				return nil, false, protocolError("short HEADERS priority")
			}
			p = p[5:]
		}
		hb.frag, hb.stream, hb.endStream = append(hb.frag[:0], p...), f.stream, f.flags&http2.FlagHeadersEndStream != 0
	case http2.FrameContinuation:
		if !hb.open || f.stream != hb.stream {
			return nil, false, protocolError("CONTINUATION outside a header block")
		}
		hb.frag = append(hb.frag, f.payload...)
	}
	if len(hb.frag) > headerBlockLimit {
		return nil, false, status.Errorf(codes.Internal, "plugin sent a header block over %d bytes", headerBlockLimit)
	}
	hb.open = f.flags&http2.FlagHeadersEndHeaders == 0
	if hb.open {
		return nil, false, nil
	}
	fields, err = hb.dec.DecodeFull(hb.frag)
	if err != nil {
		return nil, false, protocolError("headers: " + err.Error())
	}
	return fields, true, nil
}

// trailerStatus is the gRPC status that trailers carry.
func trailerStatus(fields []hpack.HeaderField) error {
	code, msg := codes.Unknown, "the call stream ended without a status"
	for _, f := range fields {
		switch f.Name {
		case "grpc-status":
			if n, err := strconv.Atoi(f.Value); err == nil {
				code = codes.Code(n)
			}
		case "grpc-message":
			msg = f.Value
			if m, err := url.PathUnescape(f.Value); err == nil { // gRPC percent-encodes it
				msg = m
			}
		}
	}
	if code == codes.OK {
		return status.Error(codes.Unavailable, "the plugin ended the call stream")
	}
	return status.Error(code, msg)
}

func protocolError(what string) error {
	return status.Error(codes.Internal, fmt.Sprintf("HTTP/2 protocol error from the plugin: %s", what))
}
