package consul

import "net/http"

// routes maps Consul's paths; a pattern ending in "/" takes the rest of
// the path as its argument, as Consul's own mux does.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	get := []string{http.MethodGet}
	put := []string{http.MethodPut}
	for pattern, e := range map[string]endpoint{
		"/v1/agent/service/register":     {put, s.agentRegister},
		"/v1/agent/service/deregister/":  {put, s.agentDeregister},
		"/v1/agent/service/maintenance/": {put, s.agentMaintenance},
		"/v1/agent/check/pass/":          {put, s.agentCheckPass},
		"/v1/agent/check/warn/":          {put, s.agentCheckWarn},
		"/v1/agent/check/fail/":          {put, s.agentCheckFail},
		"/v1/agent/check/update/":        {put, s.agentCheckUpdate},
		"/v1/agent/check/register":       {put, s.agentCheckRegister},
		"/v1/agent/check/deregister/":    {put, s.agentCheckDeregister},
		"/v1/agent/services":             {get, s.agentServices},
		"/v1/agent/service/":             {get, s.agentService},
		"/v1/agent/checks":               {get, s.agentChecks},
		"/v1/agent/self":                 {get, s.agentSelf},
		"/v1/agent/health/service/id/":   {get, s.agentHealthByID},
		"/v1/agent/health/service/name/": {get, s.agentHealthByName},
		"/v1/catalog/register":           {put, s.catalogRegister},
		"/v1/catalog/deregister":         {put, s.catalogDeregister},
		"/v1/catalog/services":           {get, s.catalogServices},
		"/v1/catalog/service/":           {get, s.catalogService},
		"/v1/catalog/nodes":              {get, s.catalogNodes},
		"/v1/catalog/node/":              {get, s.catalogNode},
		"/v1/catalog/node-services/":     {get, s.catalogNodeServiceList},
		"/v1/catalog/datacenters":        {get, s.catalogDatacenters},
		"/v1/health/service/":            {get, s.healthService},
		"/v1/health/checks/":             {get, s.healthChecks},
		"/v1/health/node/":               {get, s.healthNode},
		"/v1/health/state/":              {get, s.healthState},
		"/v1/status/leader":              {get, s.statusLeader},
		"/v1/status/peers":               {get, s.statusPeers},
		"/v1/kv/":                        {[]string{http.MethodGet, http.MethodPut, http.MethodDelete}, s.kv},
	} {
		mux.Handle(pattern, s.wrap(e))
	}
	mux.HandleFunc("/", s.index)
	return mux
}
