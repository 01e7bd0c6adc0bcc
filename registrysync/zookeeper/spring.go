package zookeeper

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/registry"
)

// The record format for code that is not a syncer: an app registering
// itself as Spring Cloud Zookeeper does (internal/selfregister), and a
// reader of the registry (the scenario runner's views and drains). Both
// go through the mapping the connector uses, so the three agree.

// EncodeInstance returns the ServiceInstance record Spring Cloud
// Zookeeper writes at <root>/<inst.Service>/<inst.ID> for inst (see the
// README's mapping), registered now when inst has no time of its own.
func EncodeInstance(inst *registry.Instance) ([]byte, error) {
	r, err := toRecord(inst, time.Now())
	if err != nil {
		return nil, fmt.Errorf("zookeeper: record of %s/%s: %w", inst.Service, inst.ID, err)
	}
	return r.encode()
}

// DecodeInstance reads the record at <root>/<service>/<id> as the source
// does: status from payload.metadata.instance_status (absent is UP).
func DecodeInstance(service, id string, data []byte) (*registry.Instance, error) {
	r, err := decodeRecord(data)
	if err != nil {
		return nil, fmt.Errorf("zookeeper: %s/%s: %w", service, id, err)
	}
	inst, err := toInstance(service, id, r, false)
	if err != nil {
		return nil, fmt.Errorf("zookeeper: %s/%s: %w", service, id, err)
	}
	return inst, nil
}

// setStatusAttempts bounds the read-modify-write against concurrent writers.
const setStatusAttempts = 5

// SetStatus does what Spring Cloud Zookeeper's ZookeeperServiceRegistry
// does for its service-registry endpoint (POST /actuator/serviceregistry
// {"status":"OUT_OF_SERVICE"}): it sets payload.metadata.instance_status
// in the instance's record and leaves the rest as it is. Spring Cloud
// LoadBalancer then skips the instance (anything but UP); UP brings it
// back. The node keeps its owner: only the data changes.
func SetStatus(conn *zk.Conn, root, service, id string, st registry.Status) error {
	path := nodePath(root, service, id)
	for range setStatusAttempts {
		data, stat, err := conn.Get(path)
		if err != nil {
			return fmt.Errorf("zookeeper: status of %s: %w", path, err)
		}
		r, err := decodeRecord(data)
		if err != nil {
			return fmt.Errorf("zookeeper: status of %s: %w", path, err)
		}
		if r.Payload == nil {
			r.Payload = &payload{Class: springPayloadClass, ID: id, Name: service}
		}
		if r.Payload.Metadata == nil {
			r.Payload.Metadata = map[string]string{}
		}
		r.Payload.Metadata[MetaInstanceStatus] = string(st)
		out, err := r.encode()
		if err != nil {
			return err
		}
		if _, err = conn.Set(path, out, stat.Version); !errors.Is(err, zk.ErrBadVersion) {
			if err != nil {
				return fmt.Errorf("zookeeper: status of %s: %w", path, err)
			}
			return nil
		}
	}
	return fmt.Errorf("zookeeper: status of %s: the node kept changing under %d attempts", path, setStatusAttempts)
}
