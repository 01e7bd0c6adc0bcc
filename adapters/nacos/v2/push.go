package v2

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registry"
)

// pushLoop watches every instance change in the store, whichever protocol
// made it, and pushes the changed services to their subscribers. Changes
// that arrive together are pushed once.
func (s *Server) pushLoop(ctx context.Context, from int64) {
	for ctx.Err() == nil {
		err := s.watchAndPush(ctx, from)
		if ctx.Err() != nil || errors.Is(err, registry.ErrClosed) {
			return
		}
		// Fell behind the store's history (or the watch broke): start
		// from now and push every subscribed service in full.
		s.log.Warn("instance watch restarted; pushing all subscribed services", "error", err)
		from = s.opts.Store.Revision()
		s.mu.Lock()
		all := make(map[registry.ServiceID]struct{}, len(s.byService))
		for sid := range s.byService {
			all[sid] = struct{}{}
		}
		s.mu.Unlock()
		s.pushServices(ctx, all)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Server) watchAndPush(ctx context.Context, from int64) error {
	w, err := s.opts.Store.Watch(ctx, from, registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindInstance}})
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		var e registry.Event
		var open bool
		select {
		case <-ctx.Done():
			return nil
		case e, open = <-w.Events():
		}
		if !open {
			if err := w.Err(); err != nil {
				return err
			}
			return errors.New("watch ended")
		}
		dirty := map[registry.ServiceID]struct{}{e.Instance.ServiceID(): {}}
		// Take whatever else is already waiting so a burst is one push.
	drain:
		for {
			select {
			case e, open = <-w.Events():
				if !open {
					break drain
				}
				dirty[e.Instance.ServiceID()] = struct{}{}
			default:
				break drain
			}
		}
		s.pushServices(ctx, dirty)
	}
}

// pushServices queues a NotifySubscriberRequest with the current instances
// for every subscription of the given services.
func (s *Server) pushServices(ctx context.Context, sids map[registry.ServiceID]struct{}) {
	for sid := range sids {
		s.mu.Lock()
		subscribers := make([]*conn, 0, len(s.byService[sid]))
		for c := range s.byService[sid] {
			subscribers = append(subscribers, c)
		}
		s.mu.Unlock()
		if len(subscribers) == 0 {
			continue
		}
		insts, _, err := s.opts.Store.List(ctx, registry.Filter{Namespace: sid.Namespace, Group: sid.Group, Service: sid.ServiceKey})
		if err != nil {
			s.log.Error("list instances for push", "service", sid.String(), "error", err)
			continue
		}
		// Subscribers that spell the service and clusters alike share one
		// rendered service info.
		rendered := map[[2]string]json.RawMessage{}
		for _, c := range subscribers {
			c.mu.Lock()
			var subs []subscription
			for k, sub := range c.subs {
				if k.sid == sid {
					subs = append(subs, sub)
				}
			}
			c.mu.Unlock()
			for _, sub := range subs {
				rk := [2]string{sub.service, sub.clusters}
				info, done := rendered[rk]
				if !done {
					q := naming.Query{Namespace: sid.Namespace, Group: sub.group, Service: sub.service, Clusters: sub.clusters}
					if info, err = json.Marshal(naming.Info(insts, q, s.opts.Clock)); err != nil {
						s.log.Error("render service info", "service", sid.String(), "error", err)
						continue
					}
					rendered[rk] = info
				}
				c.out.put(serviceNotice(sub, info))
			}
		}
	}
}

func serviceNotice(sub subscription, info json.RawMessage) *message {
	return &message{
		key: "naming:" + sub.sid.String() + "|" + sub.service + "|" + sub.clusters,
		typ: typeNotifySubscriber,
		build: func(id string) ([]byte, error) {
			return json.Marshal(notifySubscriberRequest{
				RequestID: id, Headers: map[string]string{}, Module: "naming",
				Namespace: sub.namespace, ServiceName: sub.service, GroupName: sub.group,
				ServiceInfo: info,
			})
		},
	}
}
