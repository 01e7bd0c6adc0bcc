package stub

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds the mapping decoder anything, as JSON and as YAML: it
// must not panic, and a mapping it accepts and compiles must come back
// from its JSON (the admin API's answer) as a mapping that compiles to
// the same JSON.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/wiremock/mappings/*.json")
	for _, path := range seeds {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b, true)
		}
	}
	f.Add([]byte("request: {url: /a}\nresponses: [{body: x, fault: {type: STATUS, percent: 5}}]\n"), false)
	f.Add([]byte(`{"request": {"bodyPatterns": [{"matchesJsonPath": {"expression": "$.a", "absent": true}}]}}`), true)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		name := "m.yaml"
		if asJSON {
			name = "m.json"
		}
		ms, err := Decode(name, data)
		if err != nil {
			return
		}
		for _, m := range ms {
			if _, err := Compile(m, nil); err != nil {
				continue
			}
			out, err := json.Marshal(m)
			if err != nil {
				t.Fatalf("an accepted mapping does not encode: %v", err)
			}
			back, err := DecodeJSON(out)
			if err != nil {
				t.Fatalf("its JSON %s does not decode: %v", out, err)
			}
			if _, err := Compile(back, nil); err != nil {
				t.Fatalf("its JSON %s does not compile: %v", out, err)
			}
			again, _ := json.Marshal(back)
			if string(again) != string(out) {
				t.Fatalf("round trip changed it:\n%s\n%s", out, again)
			}
		}
	})
}
