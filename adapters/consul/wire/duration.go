package wire

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration that decodes the way Consul's agent does: a
// quoted Go duration ("10s", "30000ms") or a bare number of nanoseconds.
// JSON null leaves it zero.
type Duration time.Duration

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(raw []byte) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
		*d = 0
	case string:
		dur, err := time.ParseDuration(x)
		if err != nil {
			return err
		}
		*d = Duration(dur)
	case float64:
		*d = Duration(time.Duration(x))
	default:
		return fmt.Errorf("invalid duration %s", raw)
	}
	return nil
}

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// FormatDuration renders a duration as Consul writes it in responses:
// Go's String form, and "" for zero so that omitempty drops it (an empty
// string would break consul/api's ReadableDuration decoding).
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
