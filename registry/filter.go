package registry

// Filter selects instances in List; empty fields match everything.
type Filter struct {
	Namespace string
	Group     string
	// Service matches the canonical key of the given name.
	Service string
	ID      string
	Origin  string
	// Labels must all be present with equal values.
	Labels map[string]string
	// HealthyOnly keeps instances for which Healthy() is true.
	HealthyOnly bool
}

// Match reports whether i passes the filter.
func (f *Filter) Match(i *Instance) bool {
	switch {
	case f.Namespace != "" && i.Namespace != f.Namespace,
		f.Group != "" && i.Group != f.Group,
		f.Service != "" && i.ServiceKey != CanonicalServiceKey(f.Service),
		f.ID != "" && i.ID != f.ID,
		f.Origin != "" && i.Origin != f.Origin,
		f.HealthyOnly && !i.Healthy():
		return false
	}
	for k, v := range f.Labels {
		if got, ok := i.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// ServiceSummary describes one service in ListServices.
type ServiceSummary struct {
	ServiceID
	// Name is the service name as most recently registered.
	Name      string `json:"name"`
	Instances int    `json:"instances"`
	Healthy   int    `json:"healthy"`
	// Revision is the last change to any of its instances.
	Revision int64 `json:"revision"`
}
