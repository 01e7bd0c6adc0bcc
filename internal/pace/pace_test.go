package pace

import (
	"slices"
	"testing"
	"time"
)

// TestRunFiresEverySlotInOrder checks the schedule's shape: 200 slots of
// 2 ms, each fired once, in order, and never before its time. How close
// to its time each slot fires (and so how many a busy machine makes it
// miss) is a benchmark's business (BenchmarkLateness), not a test's.
func TestRunFiresEverySlotInOrder(t *testing.T) {
	const interval = 2 * time.Millisecond
	start := time.Now().Add(interval)
	var slots []time.Time
	Run(start, interval, start.Add(200*interval), func(slot time.Time, _ bool) {
		if early := slot.Sub(time.Now()); early > 0 {
			t.Errorf("slot %v fired %v early", slot, early)
		}
		slots = append(slots, slot)
	})
	if len(slots) != 200 {
		t.Fatalf("%d slots fired, want 200", len(slots))
	}
	for i, s := range slots {
		if want := start.Add(time.Duration(i) * interval); !s.Equal(want) {
			t.Fatalf("slot %d at %v, want %v", i, s.Sub(start), want.Sub(start))
		}
	}
}

// TestRunMarksSlotsLeftBehind stalls the first slot's handler for ten
// intervals: the slots that fell more than an interval behind meanwhile
// are fired as missed, not sent in a burst.
func TestRunMarksSlotsLeftBehind(t *testing.T) {
	const interval = 5 * time.Millisecond
	start := time.Now()
	var missed []int
	i := 0
	Run(start, interval, start.Add(20*interval), func(slot time.Time, m bool) {
		if i == 0 {
			time.Sleep(10 * interval)
		}
		if m {
			missed = append(missed, i)
		}
		i++
	})
	if i != 20 {
		t.Fatalf("%d slots fired, want 20", i)
	}
	// Slots 1 to 8 were due more than an interval before the stall ended.
	for _, want := range []int{1, 2, 3, 4, 5, 6, 7, 8} {
		if !slices.Contains(missed, want) {
			t.Errorf("slot %d not marked missed; missed: %v", want, missed)
		}
	}
}

// BenchmarkLateness reports how late slots of 500 µs (2,000 a second)
// fire, p50 and p99 in µs, with Run and with a loop of time.Sleep:
// go test -run '^$' -bench Lateness ./internal/pace/
func BenchmarkLateness(b *testing.B) {
	const interval = 500 * time.Microsecond
	report := func(b *testing.B, late []time.Duration) {
		slices.Sort(late)
		b.ReportMetric(float64(late[len(late)/2].Microseconds()), "p50-late-µs")
		b.ReportMetric(float64(late[len(late)*99/100].Microseconds()), "p99-late-µs")
	}
	b.Run("pace", func(b *testing.B) {
		for b.Loop() {
			var late []time.Duration
			start := time.Now()
			Run(start, interval, start.Add(2000*interval), func(slot time.Time, _ bool) {
				late = append(late, time.Since(slot))
			})
			report(b, late)
		}
	})
	b.Run("time.Sleep", func(b *testing.B) {
		for b.Loop() {
			var late []time.Duration
			start := time.Now()
			for i := range 2000 {
				slot := start.Add(time.Duration(i) * interval)
				time.Sleep(time.Until(slot))
				late = append(late, time.Since(slot))
			}
			report(b, late)
		}
	})
}

// TestTickerTicksInOrderAndStops reads 50 ticks of 2 ms: each is later
// than the one before, by an interval or a multiple (a dropped tick),
// and none comes early; once Stop returned the channel stays quiet.
func TestTickerTicksInOrderAndStops(t *testing.T) {
	const interval = 2 * time.Millisecond
	tk := NewTicker(interval)
	var last time.Time
	for range 50 {
		tick := <-tk.C
		if time.Now().Before(tick) {
			t.Fatalf("tick %v came early", tick)
		}
		if !last.IsZero() {
			if gap := tick.Sub(last); gap <= 0 || gap%interval != 0 {
				t.Fatalf("ticks %v apart, want a multiple of %v", gap, interval)
			}
		}
		last = tick
	}
	tk.Stop()
	tk.Stop() // twice is harmless
	select {
	case tick := <-tk.C:
		t.Fatalf("tick %v after Stop", tick)
	case <-time.After(10 * interval):
	}
}
