package traffic

import (
	"fmt"
	"net/http"
	"time"
)

// DefaultClass is the class of requests no class coloured.
const DefaultClass = "default"

// Plan describes one run.
type Plan struct {
	Name string
	// URL is requested on every request (http://<service>/<path>).
	URL    string
	Method string
	// Rate in requests per second; Requests or Duration bounds the run.
	Rate     float64
	Requests int
	Duration time.Duration
	Headers  map[string]string
	Classes  []Class
	// Timeout per request; MaxInFlight caps concurrent requests.
	Timeout     time.Duration
	MaxInFlight int
	// Client sends the requests (its transport points at a sidecar's egress).
	Client *http.Client
	// Origin, when set, tells where the instance that answered lives
	// ("legacy", "mesh"), from the answer's headers or the instance named
	// in its body (empty when the answer names none); the timeline counts
	// answers by version and origin.
	Origin func(resp *http.Response, instance string) string
}

// Class colours a share of requests with extra headers.
type Class struct {
	Name    string
	Share   float64
	Headers map[string]string
}

// total is the number of requests the plan sends.
func (p *Plan) total() int {
	if p.Requests > 0 {
		return p.Requests
	}
	return int(p.Rate * p.Duration.Seconds())
}

func (p *Plan) validate() error {
	switch {
	case p.Rate <= 0:
		return fmt.Errorf("traffic %s: rate must be positive", p.Name)
	case p.total() <= 0:
		return fmt.Errorf("traffic %s: nothing to send (requests or rate x duration is 0)", p.Name)
	case p.Client == nil:
		return fmt.Errorf("traffic %s: no HTTP client", p.Name)
	case p.Timeout <= 0 || p.MaxInFlight <= 0:
		return fmt.Errorf("traffic %s: timeout and maxInFlight must be positive", p.Name)
	}
	return nil
}

// classOf spreads classes evenly over the sequence: request i lands at a
// point of a low-discrepancy sequence (golden-ratio steps) and takes the
// class whose cumulative share covers it, so any window of the run holds
// close to the planned shares without randomness.
func (p *Plan) classOf(i int) *Class {
	const phi = 0.6180339887498949
	x := float64(i) * phi
	x -= float64(int64(x))
	acc := 0.0
	for k := range p.Classes {
		acc += p.Classes[k].Share
		if x < acc {
			return &p.Classes[k]
		}
	}
	return nil
}
