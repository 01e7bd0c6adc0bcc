package host

import (
	"context"
	"errors"
	"fmt"
	"net"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/credentials"
)

// peerChecked is go-plugin's AutoMTLS credentials with a check before the
// TLS handshake: the socket's peer must be the plugin process the host
// started. go-plugin learns the socket's address and the certificate to
// trust from the first line on the plugin's standard output, a pipe that
// another process of the same user could write a line of its own into
// (through /proc) before the plugin does; without the check, the host
// would then connect to that process and hand it the calls' channel key.
type peerChecked struct {
	cfg *plugin.ClientConfig // go-plugin sets its TLSConfig before dialing
	pid func() int           // the plugin's process
}

func (p peerChecked) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if err := checkPeer(raw, p.pid()); err != nil {
		return nil, nil, err
	}
	if p.cfg.TLSConfig == nil {
		return nil, nil, errors.New("plugin connection: no TLS configuration (AutoMTLS is on: go-plugin sets one)")
	}
	return credentials.NewTLS(p.cfg.TLSConfig).ClientHandshake(ctx, authority, raw)
}

func (peerChecked) ServerHandshake(net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("plugin connection: the host does not serve")
}

// Info is the TLS credentials' (its server name is gRPC's authority).
func (p peerChecked) Info() credentials.ProtocolInfo {
	if p.cfg.TLSConfig == nil {
		return credentials.ProtocolInfo{SecurityProtocol: "tls"}
	}
	return credentials.NewTLS(p.cfg.TLSConfig).Info()
}

func (p peerChecked) Clone() credentials.TransportCredentials { return p }

func (peerChecked) OverrideServerName(string) error { return nil }

// errNoPeerPID: this system does not tell a socket's peer.
var errNoPeerPID = errors.New("no peer credentials here")

// checkPeer refuses a Unix connection whose peer (the process that
// listened) is not process pid.
func checkPeer(c net.Conn, pid int) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("plugin connection: a %T, not a Unix socket", c)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var peer int
	var peerErr error
	if err := rc.Control(func(fd uintptr) { peer, peerErr = peerPID(int(fd)) }); err != nil {
		return err
	}
	switch {
	case errors.Is(peerErr, errNoPeerPID):
		return nil
	case peerErr != nil:
		return fmt.Errorf("plugin connection: peer process: %w", peerErr)
	case peer != pid:
		return fmt.Errorf("plugin connection: the socket belongs to process %d, not to the plugin (%d): refused", peer, pid)
	}
	return nil
}
