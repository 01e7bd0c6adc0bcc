//go:build !linux && !darwin

package host

import "net"

// checkPeer: peer credentials are checked on Linux and macOS only.
func checkPeer(net.Conn, int) error { return nil }
