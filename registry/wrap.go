package registry

// Unwrapper is a Store that decorates another (plugin transformers, say).
// Optional capabilities of the store beneath, such as SelfPreservation and
// Elector, are found through it with As.
type Unwrapper interface {
	Unwrap() Store
}

// As finds T in store or in the stores it decorates, outermost first.
// store may be any part of a store (a Discovery, say): the capability is
// looked for on the value, whatever interface it was handed over as.
func As[T any](store any) (T, bool) {
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
