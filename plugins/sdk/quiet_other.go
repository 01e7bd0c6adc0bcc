//go:build !linux

package sdk

import "net"

// quiet returns conn as it is (see the Linux version).
func quiet(conn net.Conn) net.Conn { return conn }
