package stub

import (
	"bufio"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
)

// Fault types. The first four are WireMock's; FaultStatus is the YAML
// form's error answer (a status with the response's headers and body).
const (
	FaultConnectionReset = "CONNECTION_RESET_BY_PEER"
	FaultEmptyResponse   = "EMPTY_RESPONSE"
	FaultMalformedChunk  = "MALFORMED_RESPONSE_CHUNK"
	FaultRandomData      = "RANDOM_DATA_THEN_CLOSE"
	FaultStatus          = "STATUS"
)

var faultTypes = []string{FaultConnectionReset, FaultEmptyResponse, FaultMalformedChunk, FaultRandomData, FaultStatus}

type fault struct {
	kind    string
	percent float64
	status  int
}

func compileFault(f Fault, at string) (*fault, error) {
	out := &fault{kind: f.Type, percent: 100, status: f.Status}
	if !slices.Contains(faultTypes, f.Type) || (!f.object && f.Type == FaultStatus) {
		return nil, fmt.Errorf("%s: %q is not one of %s", at, f.Type, strings.Join(faultTypes[:4], ", ")+" (or, in the object form, STATUS)")
	}
	if f.Percent != nil {
		if *f.Percent < 0 || *f.Percent > 100 {
			return nil, fmt.Errorf("%s.percent: must be 0-100", at)
		}
		out.percent = *f.Percent
	}
	switch {
	case f.Type == FaultStatus && out.status == 0:
		out.status = http.StatusServiceUnavailable
	case f.Type == FaultStatus && (out.status < 100 || out.status > 999):
		return nil, fmt.Errorf("%s.status: %d is not an HTTP status", at, f.Status)
	case f.Type != FaultStatus && f.Status != 0:
		return nil, fmt.Errorf("%s.status: only for type STATUS", at)
	}
	return out, nil
}

// happens draws whether this request gets the fault.
func (f *fault) happens() bool {
	return f.percent >= 100 || mrand.Float64()*100 < f.percent
}

// malformedChunk is what WireMock sends for MALFORMED_RESPONSE_CHUNK
// after a good header: bytes that are no chunk size.
const malformedChunk = "lskdu018973t09sylgasjkfg1][]'./.sdlv"

// writeConnectionFault breaks the connection under w the way kind says.
// Over HTTP/2, which cannot hand its connection over, the stream is
// reset instead (http.ErrAbortHandler), which clients see as an error
// too.
func writeConnectionFault(w http.ResponseWriter, kind string) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	switch kind {
	case FaultConnectionReset:
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0) // close then sends RST; nothing to do if it fails
		}
	case FaultMalformedChunk:
		writeRaw(buf, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+malformedChunk)
	case FaultRandomData:
		garbage := make([]byte, 256)
		_, _ = rand.Read(garbage) // crypto/rand does not fail
		writeRaw(buf, string(garbage))
	}
}

func writeRaw(buf *bufio.ReadWriter, s string) {
	_, _ = buf.WriteString(s) // the connection is closed next; a lost write is the fault anyway
	_ = buf.Flush()
}
