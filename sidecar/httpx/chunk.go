package httpx

import (
	"bufio"
	"strconv"
)

// WriteChunk writes p as one chunk of a chunked body; an empty p writes
// nothing (a zero-size chunk would end the body).
func WriteChunk(bw *bufio.Writer, p []byte) {
	if len(p) == 0 {
		return
	}
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(p)), 16))
	bw.WriteString("\r\n")
	bw.Write(p)
	bw.WriteString("\r\n")
}

// WriteInt writes n in decimal without allocating.
func WriteInt(bw *bufio.Writer, n int64) {
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), n, 10))
}
