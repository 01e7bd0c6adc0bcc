package wire

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// inheritedChannel is ChannelEnv as the process started with it, when a
// host started it as a plugin (go-plugin's magic cookie is set too).
// Taking it is among the package's first acts: the variable leaves the
// environment and the pipes it names become close-on-exec, so that
// nothing the plugin's main package starts, even before Serve, gets them.
// (A plugin that re-executes itself thus starts again without a channel,
// and its calls go through gRPC.)
var inheritedChannel, inheritedChannelSet = takeChannelEnv()

func takeChannelEnv() (string, bool) {
	v, ok := os.LookupEnv(ChannelEnv)
	if !ok || os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		return "", false
	}
	_ = os.Unsetenv(ChannelEnv)
	if fds, err := parseChannelEnv(v); err == nil {
		for _, fd := range fds {
			if isPipe(fd) {
				closeOnExec(fd)
			}
		}
	}
	return v, true
}

// parseChannelEnv reads ChannelEnv's value: exactly two different
// descriptor numbers above 2.
func parseChannelEnv(v string) ([2]int, error) {
	var fds [2]int
	parts := strings.Split(v, ",")
	if len(parts) != 2 {
		return fds, errors.New("want two descriptor numbers, like 3,4")
	}
	for i, part := range parts {
		fd, err := strconv.Atoi(part)
		if err != nil || fd < 3 {
			return fds, fmt.Errorf("%q is not a descriptor number above 2", part)
		}
		fds[i] = fd
	}
	if fds[0] == fds[1] {
		return fds, errors.New("the same descriptor twice")
	}
	return fds, nil
}

// openInheritedChannel serves srv's calls on the pipes v names (ChannelEnv's
// value: the calls' read end, then the answers' write end). When v names
// two descriptors that are not those ends, the pipes among them are
// closed, so that a host waiting on them learns there is no channel;
// anything else is left alone.
func openInheritedChannel(v string, srv *Server) (*channel, error) {
	fds, err := parseChannelEnv(v)
	if err == nil {
		err = errors.Join(checkPipeEnd(fds[0], true), checkPipeEnd(fds[1], false))
		if err != nil {
			for _, fd := range fds {
				if isPipe(fd) {
					closeDescriptor(fd)
				}
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", ChannelEnv, v, err)
	}
	conn := newPipeConn(os.NewFile(uintptr(fds[0]), "calls"), os.NewFile(uintptr(fds[1]), "answers"))
	return newChannel(srv, conn), nil
}
