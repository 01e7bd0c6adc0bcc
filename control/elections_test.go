package control

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry/etcd"
	"github.com/meshbridge/meshbridge/registry/etcd/etcdtest"
)

// awaitLeader campaigns as id until it leads or within passes, and
// returns how long that took.
func awaitLeader(t *testing.T, c *Client, name, id string, ttl, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		leader, err := c.Campaign(testCtx(t), name, id, ttl, 500*time.Millisecond)
		if err != nil {
			t.Fatalf("campaign %s: %v", id, err)
		}
		if leader {
			return time.Since(start)
		}
	}
	t.Fatalf("%s did not lead within %v", id, within)
	return 0
}

func TestElectionOneLeaderAndHandOver(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	ctx := testCtx(t)
	const ttl = 2 * time.Second
	if leader, err := f.client.Campaign(ctx, "sync", "a", ttl, time.Second); err != nil || !leader {
		t.Fatalf("first candidate: leader %v, %v", leader, err)
	}
	if leader, err := f.client.Campaign(ctx, "sync", "b", ttl, 200*time.Millisecond); err != nil || leader {
		t.Fatalf("second candidate while a leads: leader %v, %v", leader, err)
	}
	if leader, err := f.client.Campaign(ctx, "sync", "a", ttl, 0); err != nil || !leader {
		t.Fatalf("the leader's renewal: leader %v, %v", leader, err)
	}
	if got, err := f.client.Election(ctx, "sync"); err != nil || got.Leader != "a" || got.Candidates != 2 {
		t.Fatalf("election = %+v, %v; want a leading of 2", got, err)
	}
	if err := f.client.Resign(ctx, "sync", "a"); err != nil {
		t.Fatal(err)
	}
	// A resignation hands over at once, not after a's ttl.
	if took := awaitLeader(t, f.client, "sync", "b", ttl, ttl/2); took > ttl/2 {
		t.Fatalf("b took %v after a resigned", took)
	}
	if leader, err := f.client.Campaign(ctx, "other", "a", ttl, time.Second); err != nil || !leader {
		t.Fatalf("elections are independent: a in other: %v, %v", leader, err)
	}
}

func TestElectionLeaderThatStopsCampaigningIsDroppedAfterItsTTL(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	const ttl = 2 * time.Second
	if leader, err := f.client.Campaign(testCtx(t), "sync", "a", ttl, time.Second); err != nil || !leader {
		t.Fatalf("a: %v, %v", leader, err)
	}
	stopped := time.Now() // a sends nothing more, as after kill -9
	awaitLeader(t, f.client, "sync", "b", ttl, 3*ttl)
	if since := time.Since(stopped); since < ttl-100*time.Millisecond {
		t.Fatalf("b led %v after a's last campaign, before a's ttl of %v ran out", since, ttl)
	}
}

func TestClientLeadTakesOverWithinTheTTL(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	const ttl = 2 * time.Second
	ctxA, killA := context.WithCancel(context.Background())
	defer killA()
	leadA, resignA, err := f.client.Lead(ctxA, "ha", "a", ttl)
	if err != nil {
		t.Fatal(err)
	}
	defer resignA()
	// a keeps leading across several renewals while b waits.
	bLeads := make(chan time.Time, 1)
	go func() {
		leadB, resignB, err := f.client.Lead(testCtx(t), "ha", "b", ttl)
		if err != nil {
			return
		}
		bLeads <- time.Now()
		<-leadB.Done()
		resignB()
	}()
	select {
	case <-bLeads:
		t.Fatal("b leads while a renews")
	case <-leadA.Done():
		t.Fatal("a lost leadership while renewing")
	case <-time.After(2 * ttl):
	}
	// a dies without resigning: its renewals stop.
	killA()
	died := time.Now()
	select {
	case at := <-bLeads:
		if took := at.Sub(died); took > ttl+time.Second {
			t.Fatalf("b took over %v after a died; want within the ttl %v", took, ttl)
		}
	case <-time.After(3 * ttl):
		t.Fatal("b never took over")
	}
}

func TestClientLeadEndsWhenTheServerDropsTheCandidate(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	const ttl = 2 * time.Second
	lead, resign, err := f.client.Lead(testCtx(t), "drop", "a", ttl)
	if err != nil {
		t.Fatal(err)
	}
	defer resign()
	// Another process resigns a on its behalf (an operator); b takes over.
	if err := f.client.Resign(testCtx(t), "drop", "a"); err != nil {
		t.Fatal(err)
	}
	awaitLeader(t, f.client, "drop", "b", ttl, ttl)
	select {
	case <-lead.Done():
	case <-time.After(2 * ttl):
		t.Fatal("a still believes it leads after b took over")
	}
}

func TestElectionBadInput(t *testing.T) {
	f := newFixture(t, ServerOptions{Token: "secret"})
	cases := []struct {
		name, method, path, field string
		status                    int
	}{
		{"ttl too short", http.MethodPut, "/api/v1/elections/e/candidates/a?ttl=10ms", "ttl", 400},
		{"ttl not a duration", http.MethodPut, "/api/v1/elections/e/candidates/a?ttl=soon", "ttl", 400},
		{"wait beyond the ttl", http.MethodPut, "/api/v1/elections/e/candidates/a?ttl=2s&wait=3s", "wait", 400},
		{"control character in the candidate", http.MethodPut, "/api/v1/elections/e/candidates/a%01", "candidate", 400},
		{"control character in the election", http.MethodGet, "/api/v1/elections/e%01", "election", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.server.URL+tc.path, nil)
			req.Header.Set("Authorization", "Bearer secret")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
				t.Fatalf("%d %s; want %d naming %s", resp.StatusCode, body, tc.status, tc.field)
			}
		})
	}
	if got, _ := f.client.Election(testCtx(t), "e"); got.Candidates != 0 {
		t.Fatalf("bad campaigns left candidates: %+v", got)
	}
	anon, _ := NewClient(f.server.URL, WithRetries(0, 0))
	if _, err := anon.Campaign(testCtx(t), "e", "a", 0, 0); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("campaign without the token: %v", err)
	}
}

// TestElectionAcrossControlPlanesSharingEtcd runs two control planes over
// one etcd (a real server in-process): a candidate of each campaigns, and
// only one leads, through the store's election, until it stops.
func TestElectionAcrossControlPlanesSharingEtcd(t *testing.T) {
	cli := etcdtest.Start(t)
	plane := func() *Client {
		st, err := etcd.Open(context.Background(), etcd.Options{Client: cli, Prefix: "/elect-test/", SessionTTL: time.Second,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(NewServer(st, ServerOptions{Logger: slog.New(slog.DiscardHandler)}).Handler())
		t.Cleanup(func() { srv.Close(); st.Close() })
		c, err := NewClient(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	one, two := plane(), plane()
	const ttl = 3 * time.Second
	awaitLeader(t, one, "shared", "a", ttl, 10*time.Second)
	for range 3 {
		if leader, err := two.Campaign(testCtx(t), "shared", "b", ttl, 300*time.Millisecond); err != nil || leader {
			t.Fatalf("b leads through the second control plane while a leads through the first: %v, %v", leader, err)
		}
		if leader, err := one.Campaign(testCtx(t), "shared", "a", ttl, 0); err != nil || !leader {
			t.Fatalf("a lost the lead: %v, %v", leader, err)
		}
	}
	if err := one.Resign(testCtx(t), "shared", "a"); err != nil {
		t.Fatal(err)
	}
	awaitLeader(t, two, "shared", "b", ttl, 10*time.Second)
}
