package stub

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// simpleExprs are the shapes simplePath takes over from ojg.
var simpleExprs = []string{
	"$", "$.a", "$.a.b", "$['a']['b']", "$.['a'].['b']", "$.items[0]", "$.items[-1]", "$.items[5]",
	"$.items[*]", "$.items[*].sku", "$.*", "$.*.*", "$[*]", "$[0].a", "a.b",
	"$.items[?(@.sku == 'sku-1')]", "$.items[?(@.sku == 'sku-1')].n", "$[?(@.sku == 'x')]",
	"$.items[?(@.n == 1)]", "$.items[?(@.n == 1.5)]", "$.items[?(@.n == -1)]", "$.items[?(1 == @.n)]",
	"$.items[?(@.ok == true)]", "$.items[?(@.ok == false)]", "$.items[?(@.n == null)]",
	"$.items[?(@.a.b == 'x')]", "$.items[?(@ == 'x')]", "$.items[?(@ == 1)]", "$.items[?(@)]",
	"$.items[?(@.sku)]", "$.items[?(@.a.b)]", "$[?(@.items)]", "$.items[?(@.sku == 'x' && @.n == 1)]",
	"$.items[?(@.sku && @.ok == true)]", "$.items[?((@.sku == 'x'))]", "$.items[*][?(@.n == 1)]",
	"$.items[?(@.sku == 'x')][?(@.n == 1)]", "$.a[?(@.b == 'x')].b", "$.items[?(@['sku'] == 'x')]",
	"$.items[?(@.['sku'] == 'x')]",
}

// ojgExprs stay with ojg (a descent, a slice, a union, other operators,
// a path from $ in a filter, a function).
var ojgExprs = []string{
	"$..a", "$.items[0:2]", "$['a','b']", "$.items[?(@.n > 1)]", "$.items[?(@.sku != 'x')]",
	"$.items[?(@.sku =~ /x.*/)]", "$.items[?(@.sku == 'x' || @.n == 1)]", "$.items[?(!@.sku)]",
	"$.items[?(@.sku == $.a)]", "$.items[?(@.n[0] == 1)]", "$.items[?(@.n in [1,2])]", "$[?(true)]", "$..[?(@.a == 'x')]",
}

var simpleDocs = []string{
	`null`, `1`, `"x"`, `true`, `[]`, `{}`, `[1,"x",null,true,1.5]`,
	`{"a":{"b":"x"},"items":[{"sku":"sku-1","n":1},{"sku":"x","n":1.5,"ok":true},{"sku":"x","n":1}]}`,
	`{"a":null,"items":null}`, `{"a":[{"b":"x"},{"b":"y"}],"items":"x"}`, `{"items":{"sku":"x","n":1}}`,
	`{"items":[null,"x",1,[{"n":1}],{"a":{"b":"x"}},{"n":null},{"n":-1,"ok":false},{"a":{"b":null}}]}`,
	`[{"sku":"x"},{"items":[1]}]`, `{"a":{"b":{"c":1}},"items":[[1,2],[3]]}`,
}

// TestSimplePathShapes: the shapes listed are taken over from ojg, the
// others are not.
func TestSimplePathShapes(t *testing.T) {
	for _, exprs := range []struct {
		list []string
		fast bool
	}{{simpleExprs, true}, {ojgExprs, false}} {
		for _, text := range exprs.list {
			p, err := compileJSONPath(text)
			if err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			if p.fast != exprs.fast {
				t.Errorf("%s: simple = %v, want %v", text, p.fast, exprs.fast)
			}
		}
	}
}

// TestSimplePathEqualsOJG is the differential test: every simple shape,
// listed and generated, selects from every document, listed and
// generated, what ojg selects.
func TestSimplePathEqualsOJG(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 20))
	exprs := slices.Clone(simpleExprs)
	for range 400 {
		exprs = append(exprs, randomPath(rng))
	}
	docs := slices.Clone(simpleDocs)
	for range 200 {
		b, _ := json.Marshal(randomDoc(rng, 3))
		docs = append(docs, string(b))
	}
	compared := 0
	for _, text := range exprs {
		p, err := compileJSONPath(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if !p.fast {
			t.Fatalf("%s: not a simple path", text)
		}
		for _, d := range docs {
			compareWithOJG(t, p, d)
			compared++
		}
	}
	t.Logf("%d expressions × documents", compared)
}

// FuzzSimplePathEqualsOJG: any expression simplePath takes, on any JSON
// document, selects what ojg selects.
func FuzzSimplePathEqualsOJG(f *testing.F) {
	for i, e := range simpleExprs {
		f.Add(e, simpleDocs[i%len(simpleDocs)])
	}
	f.Fuzz(func(t *testing.T, text, doc string) {
		p, err := compileJSONPath(text)
		if err != nil || !p.fast {
			return
		}
		if _, err := decodeJSON([]byte(doc)); err != nil {
			return
		}
		compareWithOJG(t, p, doc)
	})
}

func compareWithOJG(t *testing.T, p *jsonPath, text string) {
	t.Helper()
	doc, err := decodeJSON([]byte(text))
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	got, ok := p.selectFrom(doc)
	ojg := *p
	ojg.fast = false
	want, wantOK := ojg.selectFrom(doc)
	if ok != wantOK || p.selects(doc) != wantOK {
		t.Fatalf("%s on %s: selected %v (selects %v), ojg %v", p.text, text, ok, p.selects(doc), wantOK)
	}
	if strings.Contains(p.text, "*") { // a wildcard over an object: Go's map order in both
		got, want = sortedJSON(got), sortedJSON(want)
	}
	if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
		t.Fatalf("%s on %s:\n got %s\nojg %s", p.text, text, mustJSON(got), mustJSON(want))
	}
}

func sortedJSON(vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = mustJSON(v)
	}
	slices.SortFunc(out, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	return out
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var (
	simpleKeys = []string{"a", "b", "sku", "n", "ok", "items"}
	simpleLits = []string{"'x'", "'sku-1'", "1", "1.5", "-1", "0", "true", "false", "null"}
)

// randomPath is an expression of simplePath's shapes over simpleKeys.
func randomPath(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString("$")
	for range rng.IntN(5) {
		switch rng.IntN(6) {
		case 0, 1:
			b.WriteString("." + pick(rng, simpleKeys))
		case 2:
			fmt.Fprintf(&b, "[%d]", rng.IntN(5)-2)
		case 3:
			b.WriteString("[*]")
		default:
			b.WriteString("[?(" + randomTest(rng))
			if rng.IntN(3) == 0 {
				b.WriteString(" && " + randomTest(rng))
			}
			b.WriteString(")]")
		}
	}
	return b.String()
}

func randomTest(rng *rand.Rand) string {
	path := "@"
	for range rng.IntN(3) {
		path += "." + pick(rng, simpleKeys)
	}
	if rng.IntN(4) == 0 && path != "@" {
		return path
	}
	if rng.IntN(2) == 0 {
		return pick(rng, simpleLits) + " == " + path
	}
	return path + " == " + pick(rng, simpleLits)
}

// randomDoc is a JSON value over simpleKeys and values like simpleLits'.
func randomDoc(rng *rand.Rand, depth int) any {
	n := 4 // scalars only, at the bottom
	if depth > 0 {
		n = 8
	}
	switch rng.IntN(n) {
	case 0:
		return nil
	case 1:
		return pick(rng, []string{"x", "sku-1", "y"})
	case 2:
		return pick(rng, []float64{1, 1.5, -1, 0, 2})
	case 3:
		return rng.IntN(2) == 0
	case 4, 6:
		l := make([]any, rng.IntN(4))
		for i := range l {
			l[i] = randomDoc(rng, depth-1)
		}
		return l
	default:
		m := map[string]any{}
		for range rng.IntN(4) {
			m[pick(rng, simpleKeys)] = randomDoc(rng, depth-1)
		}
		return m
	}
}

func pick[T any](rng *rand.Rand, from []T) T { return from[rng.IntN(len(from))] }

// TestJSONPathNullAndPresence: a filter with no operator ([?(@.id)])
// compiles (ojg's Inspect panicked on it), and a filter applied to null
// selects nothing, through ojg too (its filters panicked on null).
func TestJSONPathNullAndPresence(t *testing.T) {
	for _, c := range []struct {
		expr, doc string
		want      bool
	}{
		{"$[?(@.id)]", `{"id":0}`, true},
		{"$[?(@.id)]", `{"other":1}`, false},
		{"$.items[?(@.sku == 'l')]", `{"items":null}`, false},
		{"$.items[?(@.sku != 'l')]", `{"items":null}`, false}, // ojg's path
		{"$.items[?(@.sku != 'l')]", `{"items":[{"sku":"m"}]}`, true},
	} {
		p, err := compileJSONPath(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		doc, _ := decodeJSON([]byte(c.doc))
		if got := p.selects(doc); got != c.want {
			t.Errorf("%s on %s: %v, want %v", c.expr, c.doc, got, c.want)
		}
	}
}

// BenchmarkJSONPathSelects: the benchmark stubs' filter on their body,
// by simplePath and by ojg, side by side:
//
//	go test -run '^$' -bench JSONPathSelects -benchmem ./mock/stub/
func BenchmarkJSONPathSelects(b *testing.B) {
	p, err := compileJSONPath("$.items[?(@.sku == 'sku-98')]")
	if err != nil {
		b.Fatal(err)
	}
	doc, _ := decodeJSON([]byte(`{"items":[{"sku":"sku-98","qty":1}]}`))
	for _, fast := range []bool{true, false} {
		q := *p
		q.fast = fast
		b.Run(map[bool]string{true: "simple", false: "ojg"}[fast], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !q.selects(doc) {
					b.Fatal("no match")
				}
			}
		})
	}
}
