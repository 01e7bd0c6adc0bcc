package spec

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/meshbridge/meshbridge/internal/config"
)

// Load reads, strictly decodes and validates a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	s.Path = path
	if err := s.checkMockStubs(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return s, nil
}

// Parse decodes and validates a scenario.
func Parse(data []byte) (*Scenario, error) {
	if len(data) > config.MaxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", config.MaxFileSize)
	}
	var s Scenario
	if err := config.Decode(data, &s); err != nil {
		return nil, err
	}
	s.StepLines = itemLines(data, "steps")
	s.ContainerLines = itemLines(data, "topology", "containers")
	s.applyDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// itemLines finds the line of every item of the list at path (keys from
// the top, as "topology", "containers").
func itemLines(data []byte, path ...string) []int {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	n := root.Content[0]
	for _, key := range path {
		n = mapValue(n, key)
		if n == nil {
			return nil
		}
	}
	if n.Kind != yaml.SequenceNode {
		return nil
	}
	var lines []int
	for _, item := range n.Content {
		lines = append(lines, item.Line)
	}
	return lines
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func lineMsg(line int, format string, args ...any) string {
	return fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, args...)
}
