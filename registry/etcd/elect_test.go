package etcd

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// One of two replicas leads; the other takes over when it resigns, and
// within the session TTL when the leader's process stops renewing.
func TestLeadHandsOverOnResignAndOnLapse(t *testing.T) {
	cli := startEtcd(t)
	open := func(c *clientv3.Client) *Store {
		s, err := Open(context.Background(), Options{Client: c, Prefix: "/lead/", SessionTTL: time.Second, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(cli), open(cli)
	if !a.Shared() {
		t.Fatal("etcd store should say it is shared")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leadA, resignA, err := a.Lead(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	type won struct {
		lead   context.Context
		resign func()
		err    error
	}
	bWon := make(chan won, 1)
	go func() {
		l, r, err := b.Lead(ctx, "job")
		bWon <- won{l, r, err}
	}()
	select {
	case <-bWon:
		t.Fatal("second replica led while the first did")
	case <-time.After(500 * time.Millisecond):
	}
	resignA()
	if leadA.Err() == nil {
		t.Fatal("leadership context still open after resign")
	}
	var wb won
	select {
	case wb = <-bWon:
		if wb.err != nil {
			t.Fatal(wb.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second replica did not take over after resign")
	}

	// A replica on its own client leads next; when that client goes away
	// without resigning (as a crash would), the waiting replica takes over
	// once the session's lease lapses.
	crashCli, err := clientv3.New(clientv3.Config{Endpoints: cli.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d := open(crashCli)
	wb.resign()
	leadD, _, err := d.Lead(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	aWon := make(chan won, 1)
	go func() {
		l, r, err := a.Lead(ctx, "job")
		aWon <- won{l, r, err}
	}()
	crashCli.Close()
	start := time.Now()
	select {
	case wa := <-aWon:
		if wa.err != nil {
			t.Fatal(wa.err)
		}
		t.Logf("took over %v after the leader's client closed", time.Since(start).Round(time.Millisecond))
		wa.resign()
		resp, err := cli.Get(ctx, "/lead.elections/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil || resp.Count != 0 {
			t.Fatalf("election keys left after every leader resigned or lapsed: %v, %v", resp, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no takeover after the leader's session lapsed")
	}
	select {
	case <-leadD.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the crashed leader's context did not end")
	}
}
