package sdk

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// ClientViaGRPC is TestClient with the calls on grpc-go's transport,
// the path a client takes when the channel cannot be opened.
func ClientViaGRPC(t testing.TB, cfg ServeConfig) *Client {
	t.Helper()
	return testClient(t, newServer(cfg, Logger()), false)
}

// RunChannelChild is the plugin process of
// TestChannelPipesReachThePluginProcess: it serves calls on the pipes
// ChannelEnv names, as Serve does, until the host closes them. Its answer
// tells what the process sees of the variable and the pipes; the path
// /exit makes it exit in the middle of the call.
func RunChannelChild() int {
	srv := newServer(ServeConfig{Request: RequestHandlerFunc(func(_ context.Context, r *Request) (*RequestResult, error) {
		if r.Path == "/exit" {
			os.Exit(3)
		}
		seen := fmt.Sprintf("env=%q cloexec=%v,%v", os.Getenv(ChannelEnv), isCloseOnExec(3), isCloseOnExec(4))
		return &RequestResult{Response: &Response{Status: 200, Body: []byte(seen)}}, nil
	})}, Logger())
	ch, err := openInheritedChannel(inheritedChannel, srv, Logger()) // as Serve does
	if err != nil || !inheritedChannelSet {
		fmt.Fprintln(os.Stderr, "no channel:", err)
		return 2
	}
	key, err := hex.DecodeString(os.Getenv("SDK_TEST_CHANNEL_KEY")) // what OpenChannel would bring
	if err != nil || !ch.open(key) {
		fmt.Fprintln(os.Stderr, "no key:", err)
		return 2
	}
	<-ch.done
	return 0
}

func isCloseOnExec(fd int) bool {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil && flags&unix.FD_CLOEXEC != 0
}
