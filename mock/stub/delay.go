package stub

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// delay is a response's wait before it answers: a fixed part, a random
// part from a distribution, and a jitter around both.
type delay struct {
	fixed  time.Duration
	dist   *DelayDistribution
	jitter time.Duration
}

func compileDelay(d ResponseDefinition, at string) (delay, error) {
	var out delay
	if d.FixedDelayMilliseconds != nil {
		if *d.FixedDelayMilliseconds < 0 {
			return out, fmt.Errorf("%s.fixedDelayMilliseconds: must be >= 0", at)
		}
		out.fixed = time.Duration(*d.FixedDelayMilliseconds) * time.Millisecond
	}
	if d.Delay != nil {
		if d.FixedDelayMilliseconds != nil {
			return out, fmt.Errorf("%s: fixedDelayMilliseconds and delay are the same setting; set one", at)
		}
		if *d.Delay < 0 {
			return out, fmt.Errorf("%s.delay: must be >= 0", at)
		}
		out.fixed = time.Duration(*d.Delay)
	}
	if d.Jitter != nil {
		if *d.Jitter < 0 {
			return out, fmt.Errorf("%s.jitter: must be >= 0", at)
		}
		out.jitter = time.Duration(*d.Jitter)
	}
	if dd := d.DelayDistribution; dd != nil {
		if err := checkDistribution(*dd, at+".delayDistribution"); err != nil {
			return out, err
		}
		out.dist = dd
	}
	return out, nil
}

func checkDistribution(d DelayDistribution, at string) error {
	switch d.Type {
	case "lognormal":
		switch {
		case d.Median == nil || d.Sigma == nil:
			return fmt.Errorf("%s: lognormal needs median and sigma", at)
		case *d.Median <= 0 || *d.Sigma < 0:
			return fmt.Errorf("%s: median must be > 0 and sigma >= 0", at)
		case d.MaxValue != nil && *d.MaxValue < *d.Median:
			return fmt.Errorf("%s.maxValue: must be >= median", at)
		case d.Lower != nil || d.Upper != nil:
			return fmt.Errorf("%s: lower and upper belong to uniform", at)
		}
	case "uniform":
		switch {
		case d.Lower == nil || d.Upper == nil:
			return fmt.Errorf("%s: uniform needs lower and upper", at)
		case *d.Lower < 0 || *d.Upper < *d.Lower:
			return fmt.Errorf("%s: need 0 <= lower <= upper", at)
		case d.Median != nil || d.Sigma != nil || d.MaxValue != nil:
			return fmt.Errorf("%s: median, sigma and maxValue belong to lognormal", at)
		}
	default:
		return fmt.Errorf("%s.type: %q is not lognormal or uniform", at, d.Type)
	}
	return nil
}

// sample draws one delay.
func (d delay) sample() time.Duration {
	total := d.fixed
	if dd := d.dist; dd != nil {
		total += time.Duration(sampleMillis(*dd) * float64(time.Millisecond))
	}
	if d.jitter > 0 {
		total += time.Duration(rand.Int64N(2*int64(d.jitter)+1)) - d.jitter
	}
	return max(total, 0)
}

// sampleMillis draws from the distribution in milliseconds. A lognormal
// draw over maxValue is drawn again, as WireMock does, at most a bounded
// number of times (then maxValue itself).
func sampleMillis(d DelayDistribution) float64 {
	if d.Type == "uniform" {
		return float64(*d.Lower + rand.IntN(*d.Upper-*d.Lower+1))
	}
	for range 100 {
		v := *d.Median * math.Exp(*d.Sigma*rand.NormFloat64())
		if d.MaxValue == nil || v <= *d.MaxValue {
			return v
		}
	}
	return *d.MaxValue
}
