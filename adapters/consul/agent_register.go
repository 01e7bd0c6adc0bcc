package consul

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// agentRegister serves PUT /v1/agent/service/register: validate like
// Consul's agent, then upsert the instance with its checks. Nothing is
// written unless the whole registration is acceptable.
func (s *Server) agentRegister(w http.ResponseWriter, r *http.Request) error {
	def, err := wire.DecodeServiceDefinition(r.Body)
	if err != nil {
		return decodeError(err)
	}
	checks, err := s.validateDefinition(def)
	if err != nil {
		return err
	}
	q := query(r)
	replace := len(q["replace-existing-checks"]) > 0 &&
		(q.Get("replace-existing-checks") == "" || q.Get("replace-existing-checks") == "true")

	id := def.ID
	if id == "" {
		id = def.Name
	}
	key := registry.NewInstanceKey(s.opts.Namespace, registry.DefaultGroup, def.Name, id)
	prev, err := s.store.Get(r.Context(), key)
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("consul: register %q: %w", id, err)
	}
	if n := externalNode(prev); prev != nil && n != nil {
		return errorf(http.StatusBadRequest, "meshbridge: service ID %q of %q is registered on node %q through the catalog; IDs are unique per service here", id, def.Name, n.Node)
	}
	inst, err := s.buildInstance(def, id, checks, prev, replace)
	if err != nil {
		return err
	}
	// Looked up before the write: the change stream may replace it in the
	// agent state as soon as the new registration lands.
	old := s.agent.service(id)
	stored, err := s.store.Register(r.Context(), inst)
	if errors.Is(err, registry.ErrInvalid) {
		return errorf(http.StatusBadRequest, "Validation failed: %v", err)
	}
	if err != nil {
		return fmt.Errorf("consul: register %q: %w", id, err)
	}
	// Consul service IDs are unique per agent: the same ID registered
	// earlier under another name is replaced.
	if old != nil && old.Key() != stored.Key() {
		if _, err := s.store.Deregister(r.Context(), old.Key()); err != nil && !errors.Is(err, registry.ErrNotFound) {
			return fmt.Errorf("consul: replace %q: %w", id, err)
		}
		s.agent.remove(old.Key())
	}
	s.settle(r.Context(), stored.Revision)
	return nil
}

// validateDefinition applies the checks Consul's agent applies before it
// registers anything, with its answers.
func (s *Server) validateDefinition(def *wire.ServiceDefinition) ([]*wire.CheckType, error) {
	if def.Name == "" {
		return nil, errorf(http.StatusBadRequest, "Missing service name")
	}
	if field := def.Unsupported(); field != "" {
		return nil, errorf(http.StatusBadRequest, "Invalid service: %s is not supported by meshbridge (it would not be kept)", field)
	}
	if ip := net.ParseIP(def.Address); ip != nil && ip.IsUnspecified() {
		return nil, errorf(http.StatusBadRequest, "Invalid service address")
	}
	// Consul takes any string; every view puts the address into clients'
	// URLs, so it must be a host (empty means the node's address).
	if def.Address != "" && !registry.ValidHost(def.Address) {
		return nil, errorf(http.StatusBadRequest, "Invalid service address %q: %s", def.Address, registry.HostRule)
	}
	for tag, a := range def.TaggedAddresses {
		if a.Address != "" && !registry.ValidHost(a.Address) {
			return nil, errorf(http.StatusBadRequest, "Invalid tagged address %q for %q: %s", a.Address, tag, registry.HostRule)
		}
	}
	if err := wire.ValidateWeights(def.Weights); err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid Weights: %v", err)
	}
	if err := wire.ValidateMeta(def.Meta); err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid Service Meta: %v", err)
	}
	if def.Port < 0 || def.Port > 65535 {
		return nil, errorf(http.StatusBadRequest, "Validation failed: invalid port %d", def.Port)
	}
	id := def.ID
	if id == "" {
		id = def.Name
	}
	if !registry.ValidName(id) {
		return nil, errorf(http.StatusBadRequest, "Validation failed: service ID %q %s", id, registry.NameRule)
	}
	if !registry.ValidName(def.Name) || strings.Contains(def.Name, registry.GroupSeparator) {
		return nil, errorf(http.StatusBadRequest, "Validation failed: service name %q %s", def.Name, registry.ServiceRule)
	}
	checks, err := def.CheckTypes()
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid check: %v", err)
	}
	for _, c := range checks {
		if c.Status != "" && !wire.ValidStatus(c.Status) {
			return nil, errorf(http.StatusBadRequest, "Status for checks must 'passing', 'warning', 'critical'")
		}
		switch c.Kind() {
		case typeTTL, typeHTTP, typeTCP:
		default:
			return nil, errorf(http.StatusBadRequest, "Invalid check: meshbridge runs TTL, HTTP and TCP checks only; %s checks are not supported", c.Kind())
		}
	}
	return checks, nil
}

// buildInstance maps a registration onto the registry model. Checks keep
// the status and output of a check with the same ID already registered
// (as Consul restores them), and checks not named again stay unless
// replace-existing-checks was asked for.
func (s *Server) buildInstance(def *wire.ServiceDefinition, id string, checks []*wire.CheckType, prev *registry.Instance, replace bool) (*registry.Instance, error) {
	inst := &registry.Instance{
		ID:        id,
		Service:   def.Name,
		Namespace: s.opts.Namespace,
		Group:     registry.DefaultGroup,
		Host:      def.Address,
		Port:      def.Port,
		Status:    registry.StatusUp,
		Metadata:  maps.Clone(def.Meta),
		Tags:      def.Tags,
		Zone:      def.Meta["zone"],
		Origin:    registry.OriginConsul,
	}
	if inst.Host == "" {
		inst.Host = s.opts.NodeAddress
	}
	// Spring Cloud Consul marks HTTPS services with meta secure=true; the
	// model keeps such a port as the secure port so Eureka shows it so.
	if strings.EqualFold(def.Meta["secure"], "true") && def.Port > 0 {
		inst.Port, inst.SecurePort, inst.SecureEnabled, inst.Scheme = 0, def.Port, true, "https"
	}
	rec := serviceRecord{
		Kind:              def.Kind,
		Address:           def.Address,
		EnableTagOverride: def.EnableTagOverride,
		SocketPath:        def.SocketPath,
		WeightPassing:     1,
		WeightWarning:     1,
	}
	if def.Locality != nil && *def.Locality != (wire.Locality{}) {
		rec.Locality = &serviceLocality{Region: def.Locality.Region, Zone: def.Locality.Zone}
	}
	if def.Weights != nil {
		rec.WeightPassing, rec.WeightWarning = def.Weights.Passing, def.Weights.Warning
	}
	inst.Weight = float64(rec.WeightPassing)
	if len(def.TaggedAddresses) > 0 {
		rec.TaggedAddresses = make(map[string]serviceAddress, len(def.TaggedAddresses))
		for k, v := range def.TaggedAddresses {
			rec.TaggedAddresses[k] = serviceAddress(v)
		}
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("consul: encode service %q: %w", id, err)
	}
	inst.Attributes = map[string]string{attrService: string(raw)}

	var prevChecks []*checkRecord
	if prev != nil && prev.Origin == registry.OriginConsul {
		_, prevChecks = readRecords(prev)
		for k, v := range prev.Attributes {
			if !strings.HasPrefix(k, "consul.") {
				inst.Attributes[k] = v
			}
		}
	}
	byID := map[string]*checkRecord{}
	for _, c := range prevChecks {
		byID[c.ID] = c
	}
	var recs []*checkRecord
	named := map[string]bool{}
	for i, c := range checks {
		cr := checkFromDefinition(c, id, def.Name, i, len(checks))
		if len(cr.ID) > maxCheckIDLength {
			return nil, errorf(http.StatusBadRequest, "Invalid check: CheckID longer than %d characters", maxCheckIDLength)
		}
		if old := byID[cr.ID]; old != nil {
			cr.Status, cr.Output = old.Status, old.Output
		}
		if named[cr.ID] {
			// The same CheckID twice: the later definition wins, as in Consul.
			recs = slices.DeleteFunc(recs, func(c *checkRecord) bool { return c.ID == cr.ID })
		}
		named[cr.ID] = true
		recs = append(recs, cr)
	}
	if !replace {
		for _, c := range prevChecks {
			if !named[c.ID] {
				recs = append(recs, c)
			}
		}
	}
	if err := writeChecks(inst, recs); err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid check: %v", err)
	}
	return inst, nil
}

// checkFromDefinition names and types one check as Consul's agent does:
// "service:<id>" (":<n>" when there are several), "Service '<name>' check",
// critical until it first reports unless a Status was given.
func checkFromDefinition(c *wire.CheckType, serviceID, serviceName string, i, n int) *checkRecord {
	id := c.CheckID
	if id == "" {
		id = "service:" + serviceID
		if n > 1 {
			id += ":" + strconv.Itoa(i+1)
		}
	}
	name := c.Name
	if name == "" {
		name = fmt.Sprintf("Service '%s' check", serviceName)
	}
	status := c.Status
	if status == "" {
		status = statusCritical
	}
	interval := c.Interval.Std()
	if (c.HTTP != "" || c.TCP != "") && interval < minCheckInterval {
		interval = minCheckInterval
	}
	return &checkRecord{
		ID: id, Name: name, Type: c.Kind(), Notes: c.Notes,
		HTTP: c.HTTP, Header: c.Header, Method: c.Method, Body: c.Body,
		TLSServerName: c.TLSServerName, TLSSkipVerify: c.TLSSkipVerify, DisableRedirects: c.DisableRedirects,
		TCP: c.TCP, TCPUseTLS: c.TCPUseTLS,
		Interval: interval, Timeout: c.Timeout.Std(), TTL: c.TTL.Std(),
		DeregisterAfter:        c.DeregisterCriticalServiceAfter.Std(),
		SuccessBeforePassing:   c.SuccessBeforePassing,
		FailuresBeforeWarning:  c.FailuresBeforeWarning,
		FailuresBeforeCritical: c.FailuresBeforeCritical,
		Status:                 status,
	}
}

// agentDeregister serves PUT /v1/agent/service/deregister/{id}.
func (s *Server) agentDeregister(w http.ResponseWriter, r *http.Request) error {
	id := strings.TrimPrefix(r.URL.Path, "/v1/agent/service/deregister/")
	inst := s.agent.service(id)
	if inst == nil {
		return unknownService(id)
	}
	if _, err := s.store.Deregister(r.Context(), inst.Key()); err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return unknownService(id)
		}
		return fmt.Errorf("consul: deregister %q: %w", id, err)
	}
	// The delete event follows; forget the service now so an immediate
	// second deregister gets Consul's 404, and wait for the event so that
	// a read right after this answer no longer shows the service.
	s.agent.remove(inst.Key())
	key := inst.Key()
	if _, rev, err := s.store.List(r.Context(), registry.Filter{Namespace: key.Namespace, Group: key.Group, Service: key.ServiceKey, ID: key.ID}); err == nil {
		s.settle(r.Context(), rev)
	}
	return nil
}

func unknownService(id string) error {
	return errorf(http.StatusNotFound, "Unknown service ID %q. Ensure that the service ID is passed, not the service name.", id)
}

// agentMaintenance serves PUT /v1/agent/service/maintenance/{id}?enable=&reason=.
func (s *Server) agentMaintenance(w http.ResponseWriter, r *http.Request) error {
	id := strings.TrimPrefix(r.URL.Path, "/v1/agent/service/maintenance/")
	if id == "" {
		return errorf(http.StatusBadRequest, "Missing service ID")
	}
	q := query(r)
	if _, ok := q["enable"]; !ok {
		return errorf(http.StatusBadRequest, "Missing value for enable")
	}
	enable, err := strconv.ParseBool(q.Get("enable"))
	if err != nil {
		return errorf(http.StatusBadRequest, "Invalid value for enable: %q", q.Get("enable"))
	}
	inst := s.agent.service(id)
	if inst == nil {
		return unknownService(id)
	}
	reason := q.Get("reason")
	if reason == "" {
		reason = maintDefaultNote
	}
	checkID := maintCheckPrefix + id
	stored, err := s.store.Update(r.Context(), inst.Key(), func(i *registry.Instance) error {
		_, recs := readRecords(i)
		kept := recs[:0]
		found := false
		for _, c := range recs {
			if c.ID == checkID {
				found = true
				if !enable {
					continue
				}
			}
			kept = append(kept, c)
		}
		if enable && !found {
			kept = append(kept, &checkRecord{ID: checkID, Name: maintCheckName, Type: typeMaintenance, Notes: reason, Status: statusCritical})
		}
		return writeChecks(i, kept)
	})
	if errors.Is(err, registry.ErrNotFound) {
		return errorf(http.StatusNotFound, "No service registered with ID %q", id)
	}
	if err != nil {
		return fmt.Errorf("consul: maintenance %q: %w", id, err)
	}
	s.settle(r.Context(), stored.Revision)
	return nil
}
