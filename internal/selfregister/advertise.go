package selfregister

import (
	"errors"
	"net"
)

// AdvertiseHost returns the address other hosts can reach this one on:
// the first IPv4 address of an interface that is up and not loopback,
// else the first such IPv6 address that is not link-local. A registered
// "localhost" would send every caller on another host to itself.
func AdvertiseHost() (string, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	var v6 string
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue // an interface that vanished meanwhile
		}
		if host, ok := pickAddr(addrs); ok {
			if net.ParseIP(host).To4() != nil {
				return host, nil
			}
			if v6 == "" {
				v6 = host
			}
		}
	}
	if v6 != "" {
		return v6, nil
	}
	return "", errors.New("no interface other than loopback has an address; set the advertise address")
}

// pickAddr returns the first usable address of one interface, IPv4 first.
func pickAddr(addrs []net.Addr) (string, bool) {
	var v6 string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsUnspecified() {
			continue
		}
		if ip4 := ipn.IP.To4(); ip4 != nil {
			return ip4.String(), true
		}
		if v6 == "" {
			v6 = ipn.IP.String()
		}
	}
	return v6, v6 != ""
}
