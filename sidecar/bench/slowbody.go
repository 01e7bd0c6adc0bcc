package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
)

// runSlowBody opens connections that each declare a request body and send
// it one byte at a time (a slowloris on the body), and after -for reports
// how many the server still holds: not answered and not closed. It is how
// issue 17 measured listeners without a body read timeout.
func runSlowBody(args []string) error {
	fs := flag.NewFlagSet("slowbody", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:15006", "address to connect to")
	host := fs.String("host", "x", "Host header")
	path := fs.String("path", "/api/v1/instances", "request path")
	conns := fs.Int("conns", 100, "connections")
	length := fs.Int("length", 100000, "declared Content-Length")
	every := fs.Duration("every", 2*time.Second, "time between two bytes")
	dur := fs.Duration("for", 70*time.Second, "how long to go on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", *path, *host, *length)
	var mu sync.Mutex
	statuses := map[int]int{}
	done := make([]chan struct{}, *conns)
	cs := make([]net.Conn, *conns)
	for i := range cs {
		c, err := net.Dial("tcp", *addr)
		if err != nil {
			return fmt.Errorf("slowbody: dial %d: %w", i, err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(head)); err != nil {
			return fmt.Errorf("slowbody: write head %d: %w", i, err)
		}
		cs[i], done[i] = c, make(chan struct{})
		go func() {
			defer close(done[i])
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				return // closed without an answer
			}
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
			for { // until the server closes
				if _, err := br.ReadByte(); err != nil {
					return
				}
			}
		}()
	}
	start := time.Now()
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for time.Since(start) < *dur {
		<-tick.C
		for i, c := range cs {
			if !closed(done[i]) {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = c.Write([]byte("x")) // a failure shows as the connection closing
			}
		}
	}
	held := 0
	for i := range cs {
		if !closed(done[i]) {
			held++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	codes := make([]string, 0, len(statuses))
	for code, n := range statuses {
		codes = append(codes, fmt.Sprintf("%d: %d", code, n))
	}
	sort.Strings(codes)
	fmt.Printf("after %v: %d of %d connections still held; answers %v\n", time.Since(start).Round(time.Second), held, *conns, codes)
	return nil
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
