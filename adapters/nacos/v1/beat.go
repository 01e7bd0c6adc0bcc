package v1

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registry"
)

// Beat answer codes (NamingResponseCode).
const (
	beatOK       = 10200
	beatNotFound = 20404
)

// beatInfo is the "beat" parameter of a full heartbeat (RsInfo).
type beatInfo struct {
	IP          string            `json:"ip"`
	Port        int               `json:"port"`
	Weight      *float64          `json:"weight"`
	ServiceName string            `json:"serviceName"`
	Cluster     string            `json:"cluster"`
	Metadata    map[string]string `json:"metadata"`
	Ephemeral   *bool             `json:"ephemeral"`
}

type beatResponse struct {
	ClientBeatInterval int64 `json:"clientBeatInterval"`
	Code               int   `json:"code"`
	LightBeatEnabled   bool  `json:"lightBeatEnabled,omitempty"`
}

// beat renews a v1 instance. An unknown instance answers code 20404, which
// makes clients register again; a full beat (with the "beat" JSON) of an
// unknown instance registers it, as Nacos's data compensation does.
func (s *Server) beat(w http.ResponseWriter, r *http.Request, p *params) error {
	ns, group, service, err := serviceParams(p)
	if err != nil {
		return err
	}
	cluster := clusterParam(p)
	ip := p.get("ip")
	port, _ := strconv.Atoi(p.optional("port", "0"))
	var bi *beatInfo
	if raw := p.get("beat"); raw != "" {
		bi = &beatInfo{}
		if err := json.Unmarshal([]byte(raw), bi); err != nil {
			return badRequest("Param 'beat' is illegal: " + err.Error())
		}
		if bi.Cluster != "" {
			cluster = bi.Cluster
		}
		ip, port = bi.IP, bi.Port
	}
	ctx := r.Context()
	insts, err := naming.Instances(ctx, s.opts.Store, ns, group, service)
	if err != nil {
		return err
	}
	interval := s.opts.BeatInterval
	inst := naming.Match(insts, ip, port, cluster)
	if inst == nil {
		if bi == nil {
			writeJSON(w, beatResponse{ClientBeatInterval: interval.Milliseconds(), Code: beatNotFound})
			return nil
		}
		in := naming.InstanceInput{IP: bi.IP, Port: bi.Port, Weight: bi.Weight, ClusterName: cluster, Metadata: bi.Metadata, Ephemeral: bi.Ephemeral}
		reg, err := naming.ToRegistry(naming.Registration{Namespace: ns, Group: group, Service: service, Instance: in})
		if err != nil {
			return badRequest(err.Error())
		}
		s.beatLease(reg)
		if inst, err = s.opts.Store.Register(ctx, reg); err != nil {
			return storeError(err)
		}
	}
	if err := s.opts.Store.Renew(ctx, inst.Key()); err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			writeJSON(w, beatResponse{ClientBeatInterval: interval.Milliseconds(), Code: beatNotFound})
			return nil
		}
		return err
	}
	if inst.Attributes[naming.AttrBeatUnhealthy] == "true" {
		s.markBeatHealth(ctx, inst.Key(), true)
	}
	interval, _, _ = naming.BeatTiming(inst.Metadata, s.opts.BeatInterval, s.opts.BeatTimeout, s.opts.DeleteTimeout)
	writeJSON(w, beatResponse{ClientBeatInterval: interval.Milliseconds(), Code: beatOK, LightBeatEnabled: true})
	return nil
}

// markBeatHealth flips an instance unhealthy for missed beats, or back.
func (s *Server) markBeatHealth(ctx context.Context, key registry.InstanceKey, healthy bool) {
	_, err := s.opts.Store.Update(ctx, key, func(inst *registry.Instance) error {
		if inst.Attributes == nil {
			inst.Attributes = map[string]string{}
		}
		if healthy {
			inst.Health = registry.HealthPassing
			delete(inst.Attributes, naming.AttrBeatUnhealthy)
		} else {
			inst.Health = registry.HealthCritical
			inst.Attributes[naming.AttrBeatUnhealthy] = "true"
		}
		return nil
	})
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		s.log.Error("update beat health", "instance", key.String(), "error", err)
	}
}

// RunBeatChecker marks v1 ephemeral instances unhealthy once they miss
// beats for the beat timeout, until ctx ends. Removal after the delete
// timeout is the registry's lease expiry, so it also happens when this
// process is gone (a store shared by replicas).
func (s *Server) RunBeatChecker(ctx context.Context) {
	t := time.NewTicker(s.opts.BeatCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.checkBeats(ctx, now)
		}
	}
}

func (s *Server) checkBeats(ctx context.Context, now time.Time) {
	insts, _, err := s.opts.Store.List(ctx, registry.Filter{Origin: registry.OriginNacos})
	if err != nil {
		s.log.Error("list instances for beat check", "error", err)
		return
	}
	for _, inst := range insts {
		if !inst.Ephemeral || inst.Attributes[naming.AttrBeat] != "true" || inst.Attributes[naming.AttrBeatUnhealthy] == "true" {
			continue
		}
		_, timeout, _ := naming.BeatTiming(inst.Metadata, s.opts.BeatInterval, s.opts.BeatTimeout, s.opts.DeleteTimeout)
		if now.Sub(inst.Lease.LastRenewal) > timeout {
			s.markBeatHealth(ctx, inst.Key(), false)
		}
	}
}
