package v2

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/nacos/config"
)

func (s *Server) handleConfigQuery(ctx context.Context, c *conn, p *Payload) (string, responder) {
	var req configRequest
	if typ, r := decode(p, &req); r != nil {
		return typ, r
	}
	k, err := config.NewKey(req.Tenant, req.Group, req.DataID)
	if err != nil {
		return configKeyError(err)
	}
	it, err := s.opts.Configs.Get(ctx, k)
	if errors.Is(err, config.ErrNotFound) {
		return "ConfigQueryResponse", &configQueryResponse{response: fail(codeConfigNotFound, "config data not exist")}
	}
	if err != nil {
		return storeError(err)
	}
	return "ConfigQueryResponse", &configQueryResponse{
		response:     ok(),
		Content:      it.Content,
		ContentType:  it.ContentType(),
		Md5:          it.MD5,
		LastModified: it.LastModified.UnixMilli(),
	}
}

func (s *Server) handleConfigPublish(ctx context.Context, c *conn, p *Payload) (string, responder) {
	var req configPublishRequest
	if typ, r := decode(p, &req); r != nil {
		return typ, r
	}
	k, err := config.NewKey(req.Tenant, req.Group, req.DataID)
	if err != nil {
		return configKeyError(err)
	}
	if strings.TrimSpace(req.Content) == "" {
		return errorResponse(codeInvalidParam, "content is blank")
	}
	_, err = s.opts.Configs.Publish(ctx, k, req.Content, req.CasMd5)
	if errors.Is(err, config.ErrCASMismatch) {
		r := fail(codeFail, err.Error())
		return "ConfigPublishResponse", &r
	}
	if err != nil {
		return storeError(err)
	}
	r := ok()
	return "ConfigPublishResponse", &r
}

func (s *Server) handleConfigRemove(ctx context.Context, c *conn, p *Payload) (string, responder) {
	var req configRequest
	if typ, r := decode(p, &req); r != nil {
		return typ, r
	}
	k, err := config.NewKey(req.Tenant, req.Group, req.DataID)
	if err != nil {
		return configKeyError(err)
	}
	if err := s.opts.Configs.Remove(ctx, k); err != nil {
		return storeError(err)
	}
	r := ok()
	return "ConfigRemoveResponse", &r
}

// handleConfigBatchListen registers (or drops) the listened items and
// answers which of them already differ from the client's md5.
func (s *Server) handleConfigBatchListen(ctx context.Context, c *conn, p *Payload) (string, responder) {
	var req configBatchListenRequest
	if typ, r := decode(p, &req); r != nil {
		return typ, r
	}
	keys := make([]config.Key, 0, len(req.ConfigListenContexts))
	for _, lc := range req.ConfigListenContexts {
		k, err := config.NewKey(lc.Tenant, lc.Group, lc.DataID)
		if err != nil {
			return configKeyError(err)
		}
		keys = append(keys, k)
	}
	s.mu.Lock()
	c.mu.Lock()
	for _, k := range keys {
		sk := k.StoreKey()
		if req.Listen {
			c.configs[sk] = k
			set := s.byConfig[sk]
			if set == nil {
				set = map[*conn]struct{}{}
				s.byConfig[sk] = set
			}
			set[c] = struct{}{}
		} else {
			delete(c.configs, sk)
			if set := s.byConfig[sk]; set != nil {
				delete(set, c)
				if len(set) == 0 {
					delete(s.byConfig, sk)
				}
			}
		}
	}
	c.mu.Unlock()
	s.mu.Unlock()
	changed := []configContext{}
	if req.Listen {
		for i, k := range keys {
			md5, err := s.opts.Configs.CurrentMD5(ctx, k)
			if err != nil {
				return storeError(err)
			}
			if md5 != req.ConfigListenContexts[i].Md5 {
				changed = append(changed, configContext{DataID: k.DataID, Group: k.Group, Tenant: k.Tenant})
			}
		}
	}
	return "ConfigChangeBatchListenResponse", &configChangeBatchListenResponse{response: ok(), ChangedConfigs: changed}
}

// onConfigChange queues a ConfigChangeNotifyRequest for every connection
// listening to the item (the zero key: to every listened item).
func (s *Server) onConfigChange(k config.Key) {
	s.mu.Lock()
	var targets []*conn
	if k == (config.Key{}) {
		for _, c := range s.conns {
			targets = append(targets, c)
		}
	} else {
		for c := range s.byConfig[k.StoreKey()] {
			targets = append(targets, c)
		}
	}
	s.mu.Unlock()
	for _, c := range targets {
		c.mu.Lock()
		var notify []config.Key
		if k == (config.Key{}) {
			for _, ck := range c.configs {
				notify = append(notify, ck)
			}
		} else if ck, ok := c.configs[k.StoreKey()]; ok {
			notify = append(notify, ck)
		}
		c.mu.Unlock()
		for _, ck := range notify {
			c.out.put(configNotice(ck))
		}
	}
}

func configNotice(k config.Key) *message {
	return &message{
		key: "config:" + k.StoreKey(),
		typ: typeConfigChangeNotify,
		build: func(id string) ([]byte, error) {
			return json.Marshal(configChangeNotifyRequest{
				RequestID: id, Headers: map[string]string{}, Module: "config",
				DataID: k.DataID, Group: k.Group, Tenant: k.Tenant,
			})
		},
	}
}
