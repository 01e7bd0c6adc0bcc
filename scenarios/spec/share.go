package spec

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Share is a fraction between 0 and 1, written "90%" or 0.9.
type Share float64

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Share) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a share such as 90%% or 0.9", n.Line)
	}
	v, err := ParseShare(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = Share(v)
	return nil
}

// ParseShare reads "90%", "2.5%" or "0.9".
func ParseShare(text string) (float64, error) {
	t := strings.TrimSpace(text)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 100 {
			return 0, fmt.Errorf("bad share %q: want 0%% to 100%%", text)
		}
		return v / 100, nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("bad share %q: want 0%% to 100%% or a fraction from 0 to 1", text)
	}
	return v, nil
}

// String renders the share as a percentage.
func (s Share) String() string { return strconv.FormatFloat(float64(s)*100, 'f', -1, 64) + "%" }
