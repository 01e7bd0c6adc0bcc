package retry

import (
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	t0 := time.Unix(5000, 0)
	tests := []struct {
		name     string
		requests int
		percent  float64
		minPerS  float64
		at       time.Time // when the retries are asked for
		want     int       // retries granted out of 1000 asked
	}{
		{"20 percent of 100", 100, 20, 0, t0, 20},
		{"reserve only", 0, 20, 1, t0, 10},
		{"percent plus reserve", 50, 20, 0.5, t0, 15},
		{"window forgets old requests", 100, 20, 0, t0.Add(11 * time.Second), 0},
		{"no budget", 100, 0, 0, t0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &budget{}
			for range tt.requests {
				b.request(t0)
			}
			got := 0
			for range 1000 {
				if b.withdraw(tt.at, tt.percent, tt.minPerS) {
					got++
				}
			}
			if got != tt.want {
				t.Errorf("granted %d retries, want %d", got, tt.want)
			}
		})
	}
}
