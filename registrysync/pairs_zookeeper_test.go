package registrysync_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// ZooKeeper <-> mesh against a real ZooKeeper: an app's record in Spring
// Cloud Zookeeper's layout (/services/<name>/<id>, an ephemeral node of
// the app's session) is found by the mesh's consumers, and mesh apps are
// found as Spring records by a ZooKeeper client, with status, labels,
// weight and secure port; removal goes both ways; nothing is copied back.
func TestPairZooKeeperAndMesh(t *testing.T) {
	legacy, srv := zookeeperLegacy(t, "legacy")
	pay, payDown := meshPay()
	s, m := pairWithMesh(t, legacy, pay, payDown)

	appConn := srv.Connect(t, 10*time.Second)
	ordersRecord, err := os.ReadFile(filepath.Join("testdata", "zookeeper-orders.json"))
	if err != nil {
		t.Fatal(err)
	}
	createSpringNode(t, appConn, "/services/orders/orders-1", ordersRecord)

	awaitMeshCopy(t, m, "orders", "orders-1", func(got *registry.Instance) error {
		if got.Labels["version"] != "v2" || got.Labels["canary"] != "true" || got.Weight != 3 ||
			!got.SecureEnabled || got.SecurePort != 8443 || got.Port != 8080 || !got.Healthy() {
			return fmt.Errorf("copy %+v", got)
		}
		return nil
	})
	// pay-2 is DOWN: the ZooKeeper connector writes no node for it
	// (downAs: absent), so no Spring consumer can pick it.
	consumer := srv.Connect(t, 10*time.Second)
	poll.UntilNil(t, "the mesh's pay-1 alone as a Spring record in ZooKeeper", func() error {
		ids, _, err := consumer.Children("/services/pay")
		if err != nil {
			return err
		}
		if fmt.Sprint(ids) != "[pay-1]" {
			return fmt.Errorf("pay's nodes %v", ids)
		}
		rec, err := springRecordAt(consumer, "/services/pay/pay-1")
		if err != nil {
			return err
		}
		md := rec.Payload.Metadata
		if rec.SSLPort == nil || *rec.SSLPort != 8443 || md["weight"] != "5" || md["version"] != "v3" ||
			md["canary"] != "true" || md["instance_status"] != "UP" || md[registrysync.MetaOrigin] != "mesh" {
			return fmt.Errorf("record %+v", rec)
		}
		return nil
	}, poll.Within(within))

	// The app goes DOWN as Spring's service-registry endpoint sets it:
	// the mesh's consumers stop selecting its copy.
	setSpringStatus(t, appConn, "/services/orders/orders-1", "DOWN")
	awaitMeshCopy(t, m, "orders", "orders-1", func(got *registry.Instance) error {
		if got.EffectiveStatus() != registry.StatusDown || got.Healthy() {
			return fmt.Errorf("status %s", got.EffectiveStatus())
		}
		return nil
	})
	holds(t, m, within, "orders/orders-1<-legacy", "pay/pay-1", "pay/pay-2")
	if kids, _, err := consumer.Children("/services/orders"); err != nil || fmt.Sprint(kids) != "[orders-1]" {
		t.Errorf("orders' nodes %v (%v), want the app's alone", kids, err)
	}

	// Removal both ways: the app's session ends, pay-1 is deregistered.
	appConn.Close()
	deregister(t, m, pay)
	holds(t, m, within, "pay/pay-2")
	poll.UntilNil(t, "pay-1's node gone", func() error {
		ids, _, err := consumer.Children("/services/pay")
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
		if len(ids) != 0 {
			return fmt.Errorf("pay's nodes %v", ids)
		}
		return nil
	}, poll.Within(within))
	noEchoes(t, s)
}

// springRecord is the part of Curator's ServiceInstance JSON the test reads.
type springRecord struct {
	Address string `json:"address"`
	Port    *int   `json:"port"`
	SSLPort *int   `json:"sslPort"`
	Payload struct {
		Metadata map[string]string `json:"metadata"`
	} `json:"payload"`
}

func springRecordAt(conn *zk.Conn, path string) (springRecord, error) {
	var rec springRecord
	data, _, err := conn.Get(path)
	if err != nil {
		return rec, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	return rec, dec.Decode(&rec)
}

// createSpringNode registers record at path as Curator does for a Spring
// app: an ephemeral node of conn's session under container folders.
func createSpringNode(t *testing.T, conn *zk.Conn, path string, record []byte) {
	t.Helper()
	parts := strings.Split(path, "/")
	for i := 2; i < len(parts); i++ {
		dir := strings.Join(parts[:i], "/")
		if _, err := conn.CreateContainer(dir, nil, zk.FlagContainer, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			t.Fatalf("create %s: %v", dir, err)
		}
	}
	if _, err := conn.Create(path, record, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
}

// setSpringStatus sets the record's instance_status at path.
func setSpringStatus(t *testing.T, conn *zk.Conn, path, status string) {
	t.Helper()
	data, stat, err := conn.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	rec["payload"].(map[string]any)["metadata"].(map[string]any)["instance_status"] = status
	if data, err = json.Marshal(rec); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Set(path, data, stat.Version); err != nil {
		t.Fatal(err)
	}
}
