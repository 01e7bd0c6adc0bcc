package consul

import (
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

func TestOnlyHeartbeatChanged(t *testing.T) {
	withCheck := func(c checkRecord, rev int64) *registry.Instance {
		inst := &registry.Instance{ID: "a-1", Service: "a", ServiceKey: "a", Namespace: "public", Host: "h", Origin: registry.OriginConsul,
			Attributes: map[string]string{attrService: `{"WeightWarning":1}`}, Revision: rev, Updated: time.Unix(rev, 0)}
		if err := writeChecks(inst, []*checkRecord{&c}); err != nil {
			t.Fatal(err)
		}
		return inst
	}
	base := checkRecord{ID: "c", Name: "c", Type: typeTTL, TTL: time.Second, Status: statusPassing, Output: "ok"}
	beat := base
	beat.Heartbeat = time.Unix(100, 0)
	failed := beat
	failed.Status = statusCritical
	prev := withCheck(base, 1)
	for _, tc := range []struct {
		name string
		prev *registry.Instance
		cur  *registry.Instance
		want bool
	}{
		{"heartbeat recorded", prev, withCheck(beat, 2), true},
		{"status changed too", prev, withCheck(failed, 2), false},
		{"no previous state", nil, withCheck(beat, 2), false},
		{"port changed", prev, func() *registry.Instance { i := withCheck(beat, 2); i.Port = 81; return i }(), false},
		{"service record changed", prev, func() *registry.Instance {
			i := withCheck(beat, 2)
			i.Attributes[attrService] = `{"WeightWarning":2}`
			return i
		}(), false},
	} {
		if got := onlyHeartbeatChanged(tc.prev, tc.cur); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
