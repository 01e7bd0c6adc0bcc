package registry

import (
	"encoding/json"
	"time"
)

// leaseJSON is Lease on the wire: durations as Go duration strings ("30s")
// so people can read and write them by hand.
type leaseJSON struct {
	RenewalInterval json.RawMessage `json:"renewalInterval,omitempty"`
	Duration        json.RawMessage `json:"duration,omitempty"`
	LastRenewal     time.Time       `json:"lastRenewal,omitzero"`
}

// MarshalJSON writes durations as strings.
func (l Lease) MarshalJSON() ([]byte, error) {
	w := leaseJSON{LastRenewal: l.LastRenewal}
	if l.RenewalInterval != 0 {
		w.RenewalInterval, _ = json.Marshal(l.RenewalInterval.String()) // a string always encodes
	}
	if l.Duration != 0 {
		w.Duration, _ = json.Marshal(l.Duration.String())
	}
	return json.Marshal(w)
}

// UnmarshalJSON accepts durations as strings ("90s") or as nanoseconds.
func (l *Lease) UnmarshalJSON(b []byte) error {
	var w leaseJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var err error
	if l.RenewalInterval, err = parseDuration("lease.renewalInterval", w.RenewalInterval); err != nil {
		return err
	}
	if l.Duration, err = parseDuration("lease.duration", w.Duration); err != nil {
		return err
	}
	l.LastRenewal = w.LastRenewal
	return nil
}

func parseDuration(field string, raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, invalid(field, "%v", err)
		}
		return d, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, invalid(field, "must be a duration string like \"30s\"")
	}
	return time.Duration(n), nil
}
