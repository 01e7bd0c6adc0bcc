package mock

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// Origins of a stub.
const (
	originFile  = "file"
	originAdmin = "admin"
)

// placed is a stub in a set: where it came from and when it was added.
type placed struct {
	stub   *stub.Stub
	origin string
	// source is the file it came from, or "admin".
	source string
	// seq orders additions: file stubs in their files' order, and every
	// admin stub after them, in the order it was added.
	seq int64
}

// set is the stubs in the order they are tried: priority (1 first), then
// the more specific (stub.Stub.Specificity), then the later added. It is
// never changed once built; a change builds a new set.
type set struct {
	ordered []*placed
	byID    map[string]*placed
	// byPath lists, by path, the positions in ordered of the stubs with
	// an exact path (stub.Stub.ExactPath); bySegment, by first segment,
	// those of the URL patterns whose literal prefix holds one
	// (stub.Stub.FirstSegment); others those of the rest. A request needs
	// trying only against its path's, its first segment's and the others.
	byPath    map[string][]int
	bySegment map[string][]int
	others    []int
	// ambiguous describes stubs that can never answer because an equal
	// stub shadows them.
	ambiguous []string
}

func newSet(stubs []*placed) *set {
	s := &set{ordered: slices.Clone(stubs), byID: make(map[string]*placed, len(stubs))}
	slices.SortStableFunc(s.ordered, func(a, b *placed) int {
		return cmp.Or(
			cmp.Compare(a.stub.Priority, b.stub.Priority),
			cmp.Compare(b.stub.Specificity(), a.stub.Specificity()),
			cmp.Compare(b.seq, a.seq),
		)
	})
	s.byPath, s.bySegment = map[string][]int{}, map[string][]int{}
	seen := map[string]*placed{}
	for i, p := range s.ordered {
		s.byID[p.stub.ID()] = p
		if path, ok := p.stub.ExactPath(); ok {
			s.byPath[path] = append(s.byPath[path], i)
		} else if seg, ok := p.stub.FirstSegment(); ok {
			s.bySegment[seg] = append(s.bySegment[seg], i)
		} else {
			s.others = append(s.others, i)
		}
		key := equalityKey(p.stub)
		if first, ok := seen[key]; ok {
			s.ambiguous = append(s.ambiguous, fmt.Sprintf("stub %s (%s) is never used: stub %s (%s) has the same request, priority and scenario state and was added later",
				describe(p), p.source, describe(first), first.source))
			continue
		}
		seen[key] = p
	}
	return s
}

func describe(p *placed) string {
	if n := p.stub.Mapping.Name; n != "" {
		return fmt.Sprintf("%q %s", n, p.stub.ID())
	}
	return p.stub.ID()
}

// equalityKey is the same for two stubs that match the same requests in
// the same scenario state at the same priority.
func equalityKey(s *stub.Stub) string {
	req, _ := json.Marshal(s.Mapping.Request) // a decoded pattern always encodes
	var sc []string
	if s.Scenario != nil {
		key, _ := json.Marshal(s.Scenario.Key)
		sc = []string{s.Scenario.Name, s.Scenario.Required, string(key)}
	}
	return fmt.Sprintf("%d|%s|%s", s.Priority, req, strings.Join(sc, "|"))
}

// candidates walks the stubs a request for path may match, in the
// set's order: those for its path and its first segment merged with the
// others.
func (s *set) candidates(path string) candidates {
	c := candidates{ordered: s.ordered, lists: [3][]int{s.byPath[path], s.others}}
	if seg := stub.PathSegment(path); seg != "" {
		c.lists[2] = s.bySegment[seg]
	}
	return c
}

// candidates merges lists of positions in ordered, each ascending.
type candidates struct {
	ordered []*placed
	lists   [3][]int
}

// next is the next candidate; nil after the last.
func (c *candidates) next() *placed {
	first := -1
	for i, l := range c.lists {
		if len(l) > 0 && (first < 0 || l[0] < c.lists[first][0]) {
			first = i
		}
	}
	if first < 0 {
		return nil
	}
	p := c.ordered[c.lists[first][0]]
	c.lists[first] = c.lists[first][1:]
	return p
}

// stubs lists the set's stubs in their order.
func (s *set) stubs() []*stub.Stub {
	out := make([]*stub.Stub, len(s.ordered))
	for i, p := range s.ordered {
		out[i] = p.stub
	}
	return out
}
