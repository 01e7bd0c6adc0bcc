package zookeeper

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry"
)

// An app's own record goes through the connector's mapping both ways: a
// status set on it reads back, and Spring's status key is in the payload.
func TestEncodeDecodeInstance(t *testing.T) {
	in := &registry.Instance{Service: "orders", ID: "orders-1", Host: "127.0.0.1", Port: 8080,
		Status: registry.StatusOutOfService, Metadata: map[string]string{"version": "v1"}}
	data, err := EncodeInstance(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"instance_status":"OUT_OF_SERVICE"`) || !strings.Contains(string(data), springPayloadClass) {
		t.Fatalf("record %s", data)
	}
	got, err := DecodeInstance("orders", "orders-1", data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != registry.StatusOutOfService || got.Address() != "127.0.0.1:8080" || got.Metadata["version"] != "v1" || got.Registered.IsZero() {
		t.Fatalf("decoded %+v", got)
	}
	if _, err := DecodeInstance("orders", "x", []byte(`{"name":"orders"}`)); err == nil || !strings.Contains(err.Error(), "orders/x") {
		t.Fatalf("a record without address: %v", err)
	}
	if _, err := EncodeInstance(&registry.Instance{Service: "a/b", ID: "1", Host: "h", Port: 1}); err == nil {
		t.Fatal("a service name with / encoded")
	}
}

// SetStatus changes only Spring's status key of an app's record (the
// fixture Spring writes), keeps the node its owner's, and fails on a
// node that is not there.
func TestSetStatusChangesOnlyInstanceStatus(t *testing.T) {
	srv := zookeepertest.Start(t)
	app, admin := srv.Connect(t, 4*time.Second), srv.Connect(t, 4*time.Second)
	inst := &registry.Instance{Service: "payments", ID: "payments-1", Host: "127.0.0.1", Port: 9001, Metadata: map[string]string{"version": "v1"}}
	registerApp(t, app, "/services", inst)
	path := nodePath("/services", "payments", "payments-1")
	before, _, err := app.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetStatus(admin, "/services", "payments", "payments-1", registry.StatusOutOfService); err != nil {
		t.Fatal(err)
	}
	after, stat, err := admin.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	if stat.EphemeralOwner != app.SessionID() {
		t.Fatalf("the node's owner is 0x%x, want the app's session 0x%x", stat.EphemeralOwner, app.SessionID())
	}
	var was, is map[string]any
	if json.Unmarshal(before, &was) != nil || json.Unmarshal(after, &is) != nil {
		t.Fatalf("records %s / %s", before, after)
	}
	if st := is["payload"].(map[string]any)["metadata"].(map[string]any)["instance_status"]; st != "OUT_OF_SERVICE" {
		t.Fatalf("instance_status = %v in %s", st, after)
	}
	is["payload"].(map[string]any)["metadata"].(map[string]any)["instance_status"] = "UP"
	if !reflect.DeepEqual(was, is) {
		t.Fatalf("other fields changed:\nbefore %s\nafter  %s", before, after)
	}
	if got, err := DecodeInstance("payments", "payments-1", after); err != nil || got.Healthy() {
		t.Fatalf("decoded %+v, %v: want not selectable", got, err)
	}
	if err := SetStatus(admin, "/services", "payments", "payments-2", registry.StatusUp); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("a missing node: %v", err)
	}
}
