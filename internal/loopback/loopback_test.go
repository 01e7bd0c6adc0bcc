package loopback

import (
	"net"
	"strconv"
	"testing"
)

func TestFreePortWithOffsets(t *testing.T) {
	for range 20 {
		p := Port(t, 1000)
		if p < lowest || p+1000 >= ephemeralLow() {
			t.Fatalf("port %d outside [%d, %d)", p, lowest, ephemeralLow()-1000)
		}
		for _, q := range []int{p, p + 1000} {
			ln, err := net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(q)))
			if err != nil {
				t.Fatalf("port %d handed out but not free: %v", q, err)
			}
			ln.Close()
		}
	}
}

func TestBusyPortIsNotHandedOut(t *testing.T) {
	// Occupy a port, then ask with an offset that lands on it.
	p := Port(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(p)))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if free(p) {
		t.Fatal("free() reports an occupied port as free")
	}
	if allFree(p-5, []int{5}) {
		t.Fatal("allFree ignores an occupied offset port")
	}
}

// TestPortsAreNotHandedOutTwice: ports named before anything listens on
// them (a scenario's topology) must all differ, offsets included.
func TestPortsAreNotHandedOutTwice(t *testing.T) {
	seen := map[int]bool{}
	for range 1000 {
		p := Port(t, 1)
		for _, q := range []int{p, p + 1} {
			if seen[q] {
				t.Fatalf("port %d handed out twice", q)
			}
			seen[q] = true
		}
	}
}
