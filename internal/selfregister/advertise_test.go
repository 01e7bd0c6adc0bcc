package selfregister

import (
	"net"
	"strings"
	"testing"
)

func TestPickAddrSkipsLoopbackAndLinkLocalAndPrefersIPv4(t *testing.T) {
	cidr := func(s string) net.Addr {
		ip, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		return n
	}
	tests := []struct {
		name  string
		addrs []net.Addr
		want  string
	}{
		{"IPv4 after IPv6", []net.Addr{cidr("fd00::2/64"), cidr("192.0.2.2/24")}, "192.0.2.2"},
		{"IPv6 alone", []net.Addr{cidr("fe80::1/64"), cidr("fd00::2/64")}, "fd00::2"},
		{"loopback and link-local only", []net.Addr{cidr("127.0.0.1/8"), cidr("::1/128"), cidr("169.254.1.1/16"), cidr("fe80::1/64")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := pickAddr(tt.addrs); got != tt.want {
				t.Fatalf("pickAddr = %q, want %q", got, tt.want)
			}
		})
	}
}

// This machine's own answer is not loopback, whatever its interfaces.
func TestAdvertiseHostIsNotLoopback(t *testing.T) {
	host, err := AdvertiseHost()
	if err != nil {
		t.Skipf("no interface but loopback here: %v", err)
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsLoopback() {
		t.Fatalf("AdvertiseHost = %q", host)
	}
}

func TestNewRefusesAnUnknownRegistry(t *testing.T) {
	_, err := New("etcd", Registration{Service: "a", Heartbeat: 1}, nil)
	if err == nil || !strings.Contains(err.Error(), `unknown registry "etcd"`) {
		t.Fatalf("New: %v", err)
	}
}
