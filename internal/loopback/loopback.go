// Package loopback hands out loopback ports for tests and local topologies
// that must name a port before the process that listens on it has started.
//
// "Listen on :0, close, pass the port on" races with every outgoing
// connection on the machine, because the kernel hands the same ephemeral
// range to both. Ports here come from below that range, which outgoing
// connections never use, and are picked at random so that two callers
// rarely pick the same one; each is checked free (with its offsets) first.
// A port handed out is not handed out again by the same process: a
// scenario names all its ports before anything listens on them, so a
// second pick of the same free port would collide later (with 30 ports out
// of 12,000, about one scenario in thirty).
package loopback

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Host is the loopback address every port is checked on.
const Host = "127.0.0.1"

// lowest port handed out; below are well-known and commonly configured ports.
const lowest = 20000

// FreePort returns a port that is free, with port+offset free too for each
// offset (Nacos puts its gRPC port at HTTP + 1000, for example).
func FreePort(offsets ...int) (int, error) {
	hi := ephemeralLow()
	span := 0
	for _, o := range offsets {
		span = max(span, o)
	}
	if hi-span <= lowest {
		return 0, fmt.Errorf("loopback: no room below the ephemeral range (starts at %d) for offsets up to %d", hi, span)
	}
	mu.Lock()
	defer mu.Unlock()
	for range 200 {
		p := lowest + rand.IntN(hi-span-lowest)
		if !handedOut(p, offsets) && free(p) && allFree(p, offsets) {
			given[p] = true
			for _, o := range offsets {
				given[p+o] = true
			}
			return p, nil
		}
	}
	return 0, errors.New("loopback: no free port found in 200 tries")
}

// FreeAddr returns "127.0.0.1:<free port>".
func FreeAddr() (string, error) {
	p, err := FreePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(Host, strconv.Itoa(p)), nil
}

// Addr is FreeAddr for tests: it fails the test instead of returning an error.
func Addr(t testing.TB) string {
	t.Helper()
	a, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Port is FreePort for tests.
func Port(t testing.TB, offsets ...int) int {
	t.Helper()
	p, err := FreePort(offsets...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	mu    sync.Mutex
	given = map[int]bool{} // ports handed out so far, offsets included
)

// handedOut reports whether p or one of its offsets was handed out before.
func handedOut(p int, offsets []int) bool {
	if given[p] {
		return true
	}
	for _, o := range offsets {
		if given[p+o] {
			return true
		}
	}
	return false
}

func allFree(p int, offsets []int) bool {
	for _, o := range offsets {
		if o != 0 && !free(p+o) {
			return false
		}
	}
	return true
}

func free(p int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(p)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// ephemeralLow is the start of the kernel's ephemeral port range (Linux's
// default 32768 when it cannot be read).
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= lowest+2000 {
		return 32768
	}
	return n
}
