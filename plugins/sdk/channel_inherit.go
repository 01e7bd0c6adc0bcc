package sdk

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/plugins/sdk/quietconn"
)

// inheritedChannel is ChannelEnv as the process started with it. Taking it
// is the package's first act: the variable leaves the environment and the
// pipes it names become close-on-exec, so that nothing the plugin starts,
// even before Serve, gets them.
var inheritedChannel, inheritedChannelSet = takeChannelEnv()

func takeChannelEnv() (string, bool) {
	v, ok := os.LookupEnv(ChannelEnv)
	if !ok {
		return "", false
	}
	_ = os.Unsetenv(ChannelEnv)
	for _, s := range strings.Split(v, ",") {
		if fd, err := strconv.Atoi(s); err == nil && fd > 2 && isPipe(fd) {
			closeOnExec(fd)
		}
	}
	return v, true
}

// openInheritedChannel serves srv's calls on the pipes v names (ChannelEnv's
// value: the calls' read end, then the answers' write end). When v does
// not name two such ends, the pipes among what it names are closed, so
// that a host waiting on them learns there is no channel; anything else
// it names is left alone.
func openInheritedChannel(v string, srv *server, logger *slog.Logger) (*channel, error) {
	calls, answers, _ := strings.Cut(v, ",")
	r, rerr := descriptorNumber(calls)
	w, werr := descriptorNumber(answers)
	err := errors.Join(rerr, werr)
	switch {
	case err == nil && r == w:
		err = errors.New("the same descriptor twice")
	case err == nil:
		err = errors.Join(checkPipeEnd(r, true), checkPipeEnd(w, false))
	}
	if err != nil {
		named := []int{r, w}
		if r == w {
			named = named[:1]
		}
		for _, fd := range named {
			if fd > 2 && isPipe(fd) {
				closeDescriptor(fd)
			}
		}
		return nil, fmt.Errorf("%s=%q: %w", ChannelEnv, v, err)
	}
	return newChannel(srv, logger, pipeConn{r: quietconn.WrapFile(os.NewFile(uintptr(r), "calls")), w: quietconn.WrapFile(os.NewFile(uintptr(w), "answers"))}), nil
}

// descriptorNumber is s as a descriptor above the standard three.
func descriptorNumber(s string) (int, error) {
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 3 {
		return -1, fmt.Errorf("%q is not a descriptor number above 2", s)
	}
	return fd, nil
}
