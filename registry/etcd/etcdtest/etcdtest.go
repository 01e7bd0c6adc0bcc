// Package etcdtest runs a real, single-member etcd server in-process (etcd's
// embeddable server package) on loopback ports, for tests and benchmarks of
// code that talks to etcd.
package etcdtest

import (
	"errors"
	"fmt"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"net/url"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
)

// Start runs a server for one test and returns a client; both stop when the
// test ends.
func Start(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, stop, err := Launch(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return cli
}

// Launch runs a server with its data in dir and returns a client and a stop
// function. Benchmarks that share one server across several benchmark
// functions use it directly and let the process exit stop it.
func Launch(dir string) (*clientv3.Client, func(), error) {
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.LogLevel = "error"
	cfg.Logger = "zap"
	cfg.LogOutputs = []string{"stderr"}
	client, err := freeURL()
	if err != nil {
		return nil, nil, err
	}
	peer, err := freeURL()
	if err != nil {
		return nil, nil, err
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, nil, errors.New("etcd did not become ready in 30s")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{client.Host}, DialTimeout: 5 * time.Second})
	if err != nil {
		e.Close()
		return nil, nil, err
	}
	return cli, func() { cli.Close(); e.Close() }, nil
}

// LaunchTemp is Launch in a fresh temporary directory.
func LaunchTemp() (*clientv3.Client, func(), error) {
	dir, err := os.MkdirTemp("", "etcdtest-")
	if err != nil {
		return nil, nil, err
	}
	cli, stop, err := Launch(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return cli, func() { stop(); os.RemoveAll(dir) }, nil
}

func freeURL() (url.URL, error) {
	addr, err := loopback.FreeAddr()
	return url.URL{Scheme: "http", Host: addr}, err
}
