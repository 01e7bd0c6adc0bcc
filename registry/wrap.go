package registry

// Unwrapper is a Store that decorates another (plugin transformers, say).
// Optional capabilities of the store beneath, such as SelfPreservation and
// Elector, are found through it with As.
type Unwrapper interface {
	Unwrap() Store
}

// As finds T in store or in the stores it decorates, outermost first.
func As[T any](store Store) (T, bool) {
	for store != nil {
		if t, ok := store.(T); ok {
			return t, true
		}
		u, ok := store.(Unwrapper)
		if !ok {
			break
		}
		store = u.Unwrap()
	}
	var zero T
	return zero, false
}
