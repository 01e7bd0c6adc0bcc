package consul

import (
	"reflect"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// TTL heartbeats over a store shared by replicas: a heartbeat that changes
// nothing is recorded in the check (checkRecord.Heartbeat) at most every
// beatEvery, so the replica that runs the checks sees passes any replica
// received; every replica moves its TTL deadline by the recorded time.

// beatEvery is how often a TTL check's heartbeat is recorded in a shared
// store. A pass another replica saw may be up to this much newer than the
// recorded heartbeat, so the TTL deadline a heartbeat sets allows for it.
func beatEvery(ttl time.Duration) time.Duration { return ttl / 4 }

// beatDeadline is when a TTL check whose heartbeat was recorded at beat
// expires: its TTL after the newest pass, which may be beatEvery newer.
func beatDeadline(beat time.Time, ttl time.Duration) time.Time {
	return beat.Add(ttl + beatEvery(ttl))
}

// heartbeat moves the TTL deadline for a heartbeat recorded in the store
// (by any replica) that is newer than the one known here.
func (lc *localCheck) heartbeat(beat, now time.Time) {
	if lc.rec.Type != typeTTL || !beat.After(lc.rec.Heartbeat) {
		return
	}
	lc.rec.Heartbeat = beat
	if d := beatDeadline(beat, lc.rec.TTL); d.After(lc.ttlDeadline) {
		lc.ttlDeadline = d
		if d.After(now) {
			lc.ttlExpired = false
		}
	}
}

// keepAlive undoes a TTL expiry the store refused because of a stored
// heartbeat, moving the deadline as that heartbeat requires.
func (a *agentState) keepAlive(id, defKey string, beat, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	lc := a.checks[id]
	if lc == nil || lc.defKey != defKey {
		return
	}
	lc.ttlExpired = false
	lc.ttlDeadline = beatDeadline(beat, lc.rec.TTL)
	if beat.After(lc.rec.Heartbeat) {
		lc.rec.Heartbeat = beat
	}
	if !lc.ttlDeadline.After(now) { // cannot happen unless clocks jumped: retry next tick
		lc.ttlDeadline = now
	}
}

// onlyHeartbeatChanged reports whether a stored change of a Consul
// instance did nothing but record check heartbeats: nothing a client reads
// changed, so blocking queries need not wake for it.
func onlyHeartbeatChanged(prev, cur *registry.Instance) bool {
	if prev == nil || !sameApartFromHeartbeats(prev, cur) {
		return false
	}
	p, c := *prev, *cur
	p.Attributes, c.Attributes = nil, nil
	p.Updated, c.Updated = time.Time{}, time.Time{}
	p.Revision, c.Revision = 0, 0
	return reflect.DeepEqual(p, c)
}

// sameApartFromHeartbeats compares two instances' attributes, ignoring the
// heartbeat recorded in each check.
func sameApartFromHeartbeats(prev, cur *registry.Instance) bool {
	if len(prev.Attributes) != len(cur.Attributes) {
		return false
	}
	for k, v := range cur.Attributes {
		pv, ok := prev.Attributes[k]
		switch {
		case !ok:
			return false
		case pv == v:
		case strings.HasPrefix(k, attrCheckPrefix):
			pc, okp := decodeCheck(pv)
			cc, okc := decodeCheck(v)
			pc.Heartbeat, cc.Heartbeat = time.Time{}, time.Time{}
			if !okp || !okc || !reflect.DeepEqual(pc, cc) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
