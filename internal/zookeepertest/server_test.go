package zookeepertest

import (
	"context"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/internal/zkserver"
)

func TestExpireEndsTheSessionAsTheServerWould(t *testing.T) {
	srv := Start(t)
	var sessions Sessions
	events := make(chan zk.Event, 64)
	owner, _, err := zk.Connect([]string{srv.Addr}, 4*time.Second, zk.WithDialer(sessions.Dial),
		zk.WithLogger(zkserver.Quiet{}), zk.WithEventCallback(func(ev zk.Event) {
			select {
			case events <- ev:
			default: // the test reads only the session states it waits for
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	awaitState(t, events, zk.StateHasSession)
	if _, err := owner.Create("/eph", []byte("x"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create: %v", err)
	}
	sess := sessions.Last()
	if sess.ID == 0 || sess.ID != owner.SessionID() {
		t.Fatalf("recorded session 0x%x, the client has 0x%x", sess.ID, owner.SessionID())
	}

	srv.Expire(t, sess)

	observer := srv.Connect(t, 4*time.Second)
	if ok, _, err := observer.Exists("/eph"); err != nil || ok {
		t.Fatalf("the expired session's ephemeral node: exists=%v err=%v, want gone", ok, err)
	}
	awaitState(t, events, zk.StateExpired)
	awaitState(t, events, zk.StateHasSession)
	if owner.SessionID() == sess.ID {
		t.Fatal("the client kept the expired session")
	}
	srv.Expire(t, sess) // gone already: not an error
}

func TestRestartKeepsDataAndAddress(t *testing.T) {
	srv := Start(t)
	c := srv.Connect(t, 4*time.Second)
	if _, err := c.Create("/kept", []byte("v"), zk.FlagPersistent, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t)
	again := srv.Connect(t, 4*time.Second)
	data, _, err := again.Get("/kept")
	if err != nil || string(data) != "v" {
		t.Fatalf("after restart: %q, %v; want the node kept", data, err)
	}
}

func TestProbeFailsWithoutServer(t *testing.T) {
	srv := Start(t)
	srv.Kill(t)
	if err := zkserver.Probe(context.Background(), srv.Addr); err == nil {
		t.Fatal("probe succeeded against a killed server")
	}
	if err := expire(srv.Addr, Session{ID: 1}); err == nil {
		t.Fatal("expire succeeded against a killed server")
	}
	if err := expire(srv.Addr, Session{}); err == nil {
		t.Fatal("expire of no session did not fail")
	}
}

func awaitState(t *testing.T, events <-chan zk.Event, want zk.State) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Type == zk.EventSession && ev.State == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %v within 30s", want)
		}
	}
}
