package registrysync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// FlowPlan is what one pass of a flow would do, as a dry run found it.
type FlowPlan struct {
	Pair    int            `json:"pair"`
	From    string         `json:"from"`
	To      string         `json:"to"`
	Add     []PlannedWrite `json:"add"`
	Update  []PlannedWrite `json:"update"`
	Remove  []PlannedWrite `json:"remove"`
	Adopt   []PlannedWrite `json:"adopt"`
	InSync  int            `json:"inSync"`
	Held    []PlannedWrite `json:"held"`
	Breaker string         `json:"breaker,omitempty"`
	Errors  []RecordError  `json:"errors"`
}

// PlannedWrite is one record of a plan.
type PlannedWrite struct {
	Record    string          `json:"record"`
	Namespace string          `json:"namespace"`
	Group     string          `json:"group"`
	Address   string          `json:"address"`
	Status    registry.Status `json:"status"`
}

func planned(list []op) []PlannedWrite {
	out := make([]PlannedWrite, 0, len(list))
	for _, o := range list {
		out = append(out, PlannedWrite{Record: o.key.String(), Namespace: o.copy.Namespace, Group: o.copy.Group,
			Address: o.copy.Address(), Status: o.copy.Status})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Record < out[j].Record })
	return out
}

// DryRun lists every source completely once and every target's copies,
// and returns what the first pass of each flow would do, writing
// nothing. A source that gives no complete listing before ctx ends, or a
// target whose copies cannot be listed, is an error: the plan would be
// wrong.
func (s *Syncer) DryRun(ctx context.Context) ([]FlowPlan, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	// The targets first: whether an empty listing of a source is an
	// error depends on the copies they hold of it (rule 7).
	for _, t := range s.targets {
		wg.Go(func() {
			conn, release, err := s.open(t.reg, "sink")
			if err != nil {
				fail(err)
				return
			}
			defer release(context.Background(), false)
			t.sink = conn
			if err := s.listTarget(ctx, t); err != nil {
				fail(fmt.Errorf("registry %q: listing the copies: %w", t.reg.Name, err))
			}
			t.sink = nil
		})
	}
	wg.Wait()
	if len(errs) == 0 {
		for _, src := range s.sources {
			wg.Go(func() {
				if err := s.listOnce(ctx, src); err != nil {
					fail(err)
				}
			})
		}
		wg.Wait()
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var plans []FlowPlan
	for _, f := range s.flows {
		t := s.targets[f.to]
		groups := make([]Group, 0)
		for _, g := range s.sourceLocked(f.from).groups {
			groups = append(groups, g)
		}
		desired, keep := s.desired(ctx, f, groups, true)
		p := makePlan(planInput{origin: f.from, desired: desired, keep: keep, current: t.copies, alive: map[copyKey]string{}, canDelete: true})
		fp := FlowPlan{Pair: f.pair, From: f.from, To: f.to, InSync: len(p.inSync), Errors: f.errs}
		b := f.breaker
		if !b.allow(p.removals(), s.copiesOfLocked(t, f.from), time.Now()) {
			fp.Breaker = "would open: " + b.reason
			p.holdRemovals()
		}
		by := map[OpKind][]op{}
		for _, o := range p.ops {
			by[o.kind] = append(by[o.kind], o)
		}
		fp.Add, fp.Update, fp.Remove, fp.Adopt = planned(by[OpAdd]), planned(by[OpUpdate]), planned(by[OpRemove]), planned(by[OpAdopt])
		fp.Held = planned(p.held)
		for key, other := range p.collisions {
			fp.Errors = append(fp.Errors, RecordError{Time: time.Now(), Record: key.String(), Op: "collision", Error: "holds a copy from " + other})
		}
		if fp.Errors == nil {
			fp.Errors = []RecordError{}
		}
		plans = append(plans, fp)
	}
	return plans, nil
}

// listOnce runs src's connector until its first complete listing.
func (s *Syncer) listOnce(ctx context.Context, src *source) error {
	conn, release, err := s.open(src.reg, "source")
	if err != nil {
		return err
	}
	defer release(context.Background(), false)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	updates := make(chan Update, 16)
	done := make(chan error, 1)
	go func() { done <- conn.Run(runCtx, updates) }()
	defer func() { cancel(); <-done }()
	for {
		select {
		case u := <-updates:
			if u.Complete {
				s.apply(src, u)
				s.mu.Lock()
				complete, why := src.complete, src.lastErr
				s.mu.Unlock()
				if !complete {
					return fmt.Errorf("registry %q: %s", src.reg.Name, why)
				}
				return nil
			}
		case err := <-done:
			if err == nil {
				err = errors.New("its run ended before a complete listing")
			}
			return fmt.Errorf("registry %q: %w", src.reg.Name, err)
		case <-ctx.Done():
			return fmt.Errorf("registry %q: no complete listing: %w", src.reg.Name, ctx.Err())
		}
	}
}

// WritePlan prints plans as --dry-run shows them: per flow the counts,
// then one line per record to add, update, remove or hold.
func WritePlan(w io.Writer, plans []FlowPlan) error {
	for _, p := range plans {
		if _, err := fmt.Fprintf(w, "pairs[%d] %s -> %s: %d to add, %d to update, %d to remove, %d to adopt, %d in sync, %d held, %d errors\n",
			p.Pair, p.From, p.To, len(p.Add), len(p.Update), len(p.Remove), len(p.Adopt), p.InSync, len(p.Held), len(p.Errors)); err != nil {
			return err
		}
		if p.Breaker != "" {
			fmt.Fprintf(w, "  breaker %s\n", p.Breaker)
		}
		for _, section := range []struct {
			what string
			list []PlannedWrite
		}{{"add", p.Add}, {"update", p.Update}, {"remove", p.Remove}, {"held", p.Held}} {
			for _, r := range section.list {
				fmt.Fprintf(w, "  %-6s %s  %s/%s  %s  %s\n", section.what, r.Record, r.Namespace, r.Group, r.Address, r.Status)
			}
		}
		for _, e := range p.Errors {
			fmt.Fprintf(w, "  error  %s  %s: %s\n", e.Record, e.Op, e.Error)
		}
	}
	return nil
}
