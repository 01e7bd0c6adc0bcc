package stub

import (
	"slices"
	"testing"
)

// mayMatch never says no where the expression selects something, and says
// no where a required string is missing from a document without escapes.
func TestJSONPathMayMatchIsSound(t *testing.T) {
	exprs := []string{
		"$.items[?(@.sku == 'sku-7')]",
		"$[?(@.a == 'x' && (@.b == \"y\" || @.c == 'z'))]",
		"$[?(!(@.a == 'x'))]",
		"$[?('x' == @.a)]",
		"$..[?(@.a == 'q')].b",
		"$[?(@.a == 'say \"hi\"')]",
		"$[?(@.n == 5)]",
		"$.a",
	}
	bodies := []string{
		`{"items":[{"sku":"sku-7"}]}`,
		`{"items":[{"sku":"sku-8"}]}`,
		`{"items":[{"sku":"sk\u0075-7"}]}`,
		`{"a":"x","b":"y"}`,
		`{"a":"x","c":"z"}`,
		`{"a":"x","b":"no"}`,
		`{"a":"\u0078","b":"y"}`,
		`{"a":"w"}`,
		`{"deep":{"a":"q","b":1}}`,
		`{"a":"say \"hi\""}`,
		`{"n":5}`,
		`{"a":null}`,
		`not json`,
	}
	for _, text := range exprs {
		p, err := compileJSONPath(text)
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range bodies {
			doc, err := decodeJSON([]byte(body))
			if err != nil {
				continue
			}
			if _, selected := p.selectFrom(doc); selected && !p.mayMatch(body) {
				t.Errorf("%s selects in %s, but mayMatch says no", text, body)
			}
		}
	}
	cases := []struct {
		expr     string
		required []string
		body     string
		may      bool
	}{
		{"$.items[?(@.sku == 'sku-7')]", []string{"sku-7"}, `{"items":[{"sku":"sku-8"}]}`, false},
		{"$[?(@.a == 'x' && (@.b == \"y\" || @.c == 'z'))]", []string{"x"}, `{"a":"w"}`, false},
		{"$[?(@.a == 'x' && (@.b == \"y\" || @.c == 'z'))]", []string{"x"}, `{"a":"x"}`, true},
		{"$[?(!(@.a == 'x'))]", nil, `{"a":"w"}`, true},
		{"$[?(@.a == 'say \"hi\"')]", nil, `{}`, true},
		{"$.items[?(@.sku == 'sku-7')]", []string{"sku-7"}, `{"items":[{"sku":"sk\u0075-7"}]}`, true},
	}
	for _, c := range cases {
		p, _ := compileJSONPath(c.expr)
		if !slices.Equal(p.required, c.required) || p.mayMatch(c.body) != c.may {
			t.Errorf("%s: required %q, mayMatch(%s) %v; want %q, %v", c.expr, p.required, c.body, p.mayMatch(c.body), c.required, c.may)
		}
	}
}
