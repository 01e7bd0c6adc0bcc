//go:build !linux

package httpx

import (
	"syscall"
	"time"
)

// setUserTimeout is nil where TCP_USER_TIMEOUT does not exist: there,
// keep-alive probes find a dead peer only on an idle connection.
func setUserTimeout(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}
