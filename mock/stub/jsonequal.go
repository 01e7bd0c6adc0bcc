package stub

import "encoding/json"

// jsonEqual compares two decoded JSON documents as WireMock's equalToJson
// does: numbers by value (as float64), objects regardless of key order; with
// ignoreArrayOrder arrays as multisets, with ignoreExtraElements the
// actual document may have fields and array items the expected one lacks.
func jsonEqual(want, got any, ignoreOrder, ignoreExtra bool) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || (!ignoreExtra && len(g) != len(w)) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !jsonEqual(wv, gv, ignoreOrder, ignoreExtra) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) < len(w) || (!ignoreExtra && len(g) != len(w)) {
			return false
		}
		if !ignoreOrder {
			if ignoreExtra {
				return inOrder(w, g, ignoreExtra)
			}
			for i := range w {
				if !jsonEqual(w[i], g[i], ignoreOrder, ignoreExtra) {
					return false
				}
			}
			return true
		}
		return anyOrder(w, g, ignoreExtra)
	default:
		return want == got
	}
}

// inOrder: each expected item matches an actual one after the previous
// match, extra actual items allowed between them.
func inOrder(want, got []any, ignoreExtra bool) bool {
	j := 0
	for _, w := range want {
		for j < len(got) && !jsonEqual(w, got[j], false, ignoreExtra) {
			j++
		}
		if j == len(got) {
			return false
		}
		j++
	}
	return true
}

// anyOrder: each expected item matches a different actual item. Greedy
// is enough for the sizes stubs compare, and exact when items are
// scalars or fully specified.
func anyOrder(want, got []any, ignoreExtra bool) bool {
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for j, g := range got {
			if !used[j] && jsonEqual(w, g, true, ignoreExtra) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// decodeJSON decodes a document; numbers become float64, which ojg's
// filters compare and equalToJson compares by value.
func decodeJSON(data []byte) (any, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}
