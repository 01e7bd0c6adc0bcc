package host_test

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// TestThreadsEndingElsewhereLeaveThePluginAlone: goroutines that exit
// locked to their threads end those threads, and a plugin's
// parent-death signal belongs to the thread that forked it. The host
// forks on a thread of its own, so no other goroutine's thread can take
// the plugin down with it (a benchmark's pacer once did).
func TestThreadsEndingElsewhereLeaveThePluginAlone(t *testing.T) {
	h := startHost(t, pluginConfig(t, "steady", "testplugin"))
	p := mustPlugin(t, h, "steady")
	pid := p.Stats().PID
	for range 20 {
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				runtime.LockOSThread() // and exit locked: the runtime ends the thread
				time.Sleep(time.Millisecond)
			})
		}
		wg.Wait()
	}
	time.Sleep(100 * time.Millisecond) // a kill, had there been one, is seen well within this
	if processGone(pid) {
		t.Fatalf("plugin %d was killed when other goroutines' threads ended", pid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.HandleRequest(ctx, &sdk.Request{Header: http.Header{}}); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.PID != pid || s.Restarts != 0 {
		t.Errorf("plugin restarted: pid %d → %d, %d restarts", pid, s.PID, s.Restarts)
	}
}
