package stub

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/internal/config/configtest"
)

// decodeAndCompile is what loading a file does, without a __files folder.
func decodeAndCompile(path string, data []byte) error {
	ms, err := Decode(path, data)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if _, err := Compile(m, nil); err != nil {
			return err
		}
	}
	return nil
}

// Bad stubs in the YAML form: each testdata/*.bad.yaml names its error.
func TestBadYAMLStubs(t *testing.T) {
	configtest.RejectsBad(t, func(t *testing.T, path string) error {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return decodeAndCompile(path, data)
	})
}

// Bad WireMock mappings: every error names the file, and the line or the
// field.
func TestBadJSONMappings(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"syntax", "{\n  \"request\": {\n    \"url\": \"/a\",\n  }\n}", "m.json: line 4, column 3: invalid JSON"},
		{"unknown field", "{\n  \"request\": {\"url\": \"/a\"},\n  \"respons\": {}\n}", `m.json: line 3: unknown key "respons"`},
		{"unknown field in the list form", "{\"mappings\": [{\"request\": {}}, {\"request\": {\"urll\": \"/a\"}}]}", `m.json: line 1: unknown key "urll"`},
		{"refused field in the list form", `{"mappings": [{"request": {}}, {"request": {"basicAuthCredentials": {"username": "a", "password": "b"}}}]}`, "m.json: mappings[1].request.basicAuthCredentials: basicAuthCredentials are not supported"},
		{"a list, not a mapping", `[{"request": {}}]`, "m.json: line 1: a mapping is an object"},
		{"two values", `{} {}`, "m.json: invalid JSON: more than one value"},
		{"wrong type", `{"response": {"status": "200"}}`, "m.json: line 1: cannot unmarshal !!str `200` into int"},
		{"equalToJson string that is not JSON", `{"request": {"bodyPatterns": [{"equalToJson": "{a"}]}}`, "request.bodyPatterns[0].equalToJson: not a JSON document"},
		{"uuid and id differ", `{"id": "a", "uuid": "b"}`, `uuid: "b" differs from id "a"`},
		{"statusMessage", `{"response": {"statusMessage": "Fine"}}`, "response.statusMessage: a custom status message is not supported"},
		{"empty", ``, "m.json: invalid JSON"},
		{"a Jayway function", `{"request": {"bodyPatterns": [{"matchesJsonPath": "$.things.size()"}]}}`, `request.bodyPatterns[0].matchesJsonPath: invalid JSONPath "$.things.size()"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeAndCompile("m.json", []byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// WireMock's JSON and the YAML form decode to the same stub.
func TestYAMLFormIsTheSameModel(t *testing.T) {
	fromJSON, err := Decode("m.json", []byte(`{"request": {"method": "POST", "urlPath": "/pay", "headers": {"X-A": {"matches": "[0-9]+"}}, "bodyPatterns": [{"matchesJsonPath": {"expression": "$.a", "equalTo": "1"}}]}, "response": {"status": 201, "jsonBody": {"ok": true}, "headers": {"Content-Type": "application/json"}}, "priority": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := Decode("m.yaml", []byte(`
request:
  method: POST
  urlPath: /pay
  headers:
    X-A: {matches: "[0-9]+"}
  bodyPatterns:
    - matchesJsonPath: {expression: $.a, equalTo: "1"}
response:
  status: 201
  jsonBody: {ok: true}
  headers: {Content-Type: application/json}
priority: 2
`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromJSON)
	b, _ := json.Marshal(fromYAML)
	if string(a) != string(b) {
		t.Fatalf("JSON form %s\nYAML form %s", a, b)
	}
}
