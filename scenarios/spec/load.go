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
	s.StepLines = stepLines(data)
	s.applyDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// stepLines finds the line of every item under the top-level "steps" key.
func stepLines(data []byte) []int {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "steps" {
			var lines []int
			for _, item := range m.Content[i+1].Content {
				lines = append(lines, item.Line)
			}
			return lines
		}
	}
	return nil
}

func lineMsg(line int, format string, args ...any) string {
	return fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, args...)
}
