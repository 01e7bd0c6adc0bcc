package registrysync

import (
	"sort"

	"github.com/meshbridge/meshbridge/registry"
)

// copyKey identifies a copy in its target: the service's canonical name
// and the instance's id. Namespaces and groups are left out on purpose:
// not every registry keeps them (Eureka has neither), and copies the
// target cannot tell apart would otherwise be written and deleted in
// turn; two instances that differ only there are a collision, reported.
type copyKey struct{ Service, ID string }

func keyOf(inst *registry.Instance) copyKey {
	return copyKey{Service: registry.CanonicalServiceKey(inst.Service), ID: inst.ID}
}

func (k copyKey) String() string { return k.Service + "/" + k.ID }

// OpKind is what a planned write does.
type OpKind string

// The writes a plan holds.
const (
	// OpAdd writes a copy the target does not hold.
	OpAdd OpKind = "add"
	// OpUpdate writes a copy the target holds with other content.
	OpUpdate OpKind = "update"
	// OpAdopt keeps alive a copy that is right already but that this
	// process did not write (it restarted, or took over from a replica).
	OpAdopt OpKind = "adopt"
	// OpRemove deletes a copy.
	OpRemove OpKind = "remove"
)

// op is one planned write.
type op struct {
	kind OpKind
	key  copyKey
	// copy is what to write (add, update, adopt) or the copy as the
	// target listed it (remove).
	copy *registry.Instance
	// listed is the copy as the target listed it, for adopt.
	listed *registry.Instance
}

// planInput is what a flow's plan is made from, for the services of one
// pass.
type planInput struct {
	// origin is the flow's source: the MetaOrigin of its copies.
	origin string
	// desired are the copies the source's instances make, finished.
	desired map[copyKey]*registry.Instance
	// keep are records that could not be made into a copy (a transformer
	// failed, the record is invalid): whatever copy they have stays.
	keep map[copyKey]bool
	// current are the target's copies in the pass's services, of every
	// origin.
	current map[copyKey][]*registry.Instance
	// alive are the copies this process's sink keeps alive, with the
	// digest it wrote or adopted.
	alive map[copyKey]string
	// canDelete is set once every source was listed completely since the
	// process started.
	canDelete bool
}

// plan is what a pass does.
type plan struct {
	ops []op
	// held are removals not done: some source was not listed completely
	// since the process started, or the breaker is open. Their copies
	// stay, kept alive (fail-static): each not alive yet has an adopt op.
	held  []op
	alive map[copyKey]string
	// inSync are the copies that need nothing.
	inSync []copyKey
	// collisions are desired copies whose place in the target another
	// source's copy holds, with that source's name.
	collisions map[copyKey]string
}

// makePlan compares what the source wants with what the target holds.
// It only ever touches the origin's own copies.
func makePlan(in planInput) plan {
	p := plan{alive: in.alive}
	for key, want := range in.desired {
		var mine []*registry.Instance
		other := ""
		for _, c := range in.current[key] {
			if c.Metadata[MetaOrigin] == in.origin {
				mine = append(mine, c)
			} else {
				other = c.Metadata[MetaOrigin]
			}
		}
		if len(mine) == 0 && other != "" {
			if p.collisions == nil {
				p.collisions = map[copyKey]string{}
			}
			p.collisions[key] = other
			continue
		}
		digest := want.Metadata[MetaDigest]
		var match *registry.Instance
		for _, c := range mine {
			if c.Metadata[MetaDigest] == digest {
				match = c
				break
			}
		}
		switch {
		case len(mine) == 0:
			p.ops = append(p.ops, op{kind: OpAdd, key: key, copy: want})
		case match == nil:
			p.ops = append(p.ops, op{kind: OpUpdate, key: key, copy: want})
		case in.alive[key] != digest:
			p.ops = append(p.ops, op{kind: OpAdopt, key: key, copy: want, listed: match})
		default:
			p.inSync = append(p.inSync, key)
		}
		// A registry with namespaces may hold an older copy beside the
		// right one (the copy moved namespace): it goes.
		for _, c := range mine {
			if match != nil && c != match {
				p.remove(key, c, in.canDelete)
			}
		}
	}
	for key, list := range in.current {
		if _, wanted := in.desired[key]; wanted {
			continue
		}
		for _, c := range list {
			switch {
			case c.Metadata[MetaOrigin] != in.origin:
			case in.keep[key]:
				// A record that could not be made into a copy keeps the
				// one it has, alive.
				p.keepAlive(key, c)
			default:
				p.remove(key, c, in.canDelete)
			}
		}
	}
	sort.SliceStable(p.ops, func(i, j int) bool { return p.ops[i].key.String() < p.ops[j].key.String() })
	return p
}

func (p *plan) remove(key copyKey, c *registry.Instance, allowed bool) {
	o := op{kind: OpRemove, key: key, copy: c}
	if allowed {
		p.ops = append(p.ops, o)
	} else {
		p.hold(o)
	}
}

// hold keeps a removal from being done, and its copy alive.
func (p *plan) hold(o op) {
	p.held = append(p.held, o)
	p.keepAlive(o.key, o.copy)
}

// keepAlive adopts c, a copy that stays as it is, unless this process
// keeps it alive already.
func (p *plan) keepAlive(key copyKey, c *registry.Instance) {
	if d, ok := p.alive[key]; !ok || d != c.Metadata[MetaDigest] {
		p.ops = append(p.ops, op{kind: OpAdopt, key: key, copy: c, listed: c})
	}
}

// removals counts the plan's removals.
func (p *plan) removals() int {
	n := 0
	for _, o := range p.ops {
		if o.kind == OpRemove {
			n++
		}
	}
	return n
}

// holdRemovals moves the plan's removals to held (the breaker is open).
func (p *plan) holdRemovals() {
	var removals []op
	kept := p.ops[:0]
	for _, o := range p.ops {
		if o.kind == OpRemove {
			removals = append(removals, o)
		} else {
			kept = append(kept, o)
		}
	}
	p.ops = kept
	for _, o := range removals {
		p.hold(o)
	}
}
