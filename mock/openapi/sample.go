package openapi

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Depths at which generation gets leaner, so that recursive schemas end:
// below fullDepth an object gets every property, below maxDepth only its
// required ones and arrays their minimum of items; at maxDepth, null.
const (
	fullDepth = 4
	maxDepth  = 10
)

// sample is a value the schema accepts, for a response body: the
// schema's own example (or examples[0], const, default, an enum value)
// when it has one, else one built from its type and constraints.
// Properties marked writeOnly are left out of objects, as a response may
// not carry them. seed varies scalars, so that an array's items differ
// (uniqueItems).
func sample(ref *openapi3.SchemaRef, depth, seed int) any {
	if ref == nil || ref.Value == nil || depth >= maxDepth {
		return nil
	}
	s := ref.Value
	switch {
	case s.Example != nil:
		return s.Example
	case len(s.Examples) > 0:
		return s.Examples[0]
	case s.Const != nil:
		return s.Const
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[seed%len(s.Enum)]
	case len(s.OneOf) > 0:
		return merged(s, sample(s.OneOf[0], depth+1, seed), depth, seed)
	case len(s.AnyOf) > 0:
		return merged(s, sample(s.AnyOf[0], depth+1, seed), depth, seed)
	case len(s.AllOf) > 0:
		var out any
		for _, sub := range s.AllOf {
			out = merge(out, sample(sub, depth+1, seed))
		}
		return merged(s, out, depth, seed)
	}
	switch typeOf(s) {
	case openapi3.TypeObject:
		return sampleObject(s, depth, seed)
	case openapi3.TypeArray:
		return sampleArray(s, depth)
	case openapi3.TypeString:
		return sampleString(s, seed)
	case openapi3.TypeInteger:
		return int64(sampleNumber(s, float64(1+seed), true))
	case openapi3.TypeNumber:
		return sampleNumber(s, 1.5+float64(seed), false)
	case openapi3.TypeBoolean:
		return true
	case openapi3.TypeNull:
		return nil
	}
	return map[string]any{} // no type: anything goes
}

// merged adds the properties s declares beside its allOf, oneOf or
// anyOf to what they gave.
func merged(s *openapi3.Schema, v any, depth, seed int) any {
	if len(s.Properties) == 0 {
		return v
	}
	return merge(v, sampleObject(s, depth, seed))
}

// merge joins two objects' properties; anything else, the later wins.
func merge(a, b any) any {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		if b == nil {
			return a
		}
		return b
	}
	out := make(map[string]any, len(am)+len(bm))
	for k, v := range am {
		out[k] = v
	}
	for k, v := range bm {
		out[k] = v
	}
	return out
}

// typeOf is the schema's type, the first that is not null; a schema
// without one is an object when it has properties, an array when it
// has items.
func typeOf(s *openapi3.Schema) string {
	if s.Type != nil {
		for _, t := range s.Type.Slice() {
			if t != openapi3.TypeNull {
				return t
			}
		}
		if s.Type.IncludesNull() {
			return openapi3.TypeNull
		}
	}
	switch {
	case len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil:
		return openapi3.TypeObject
	case s.Items != nil:
		return openapi3.TypeArray
	}
	return ""
}

func sampleObject(s *openapi3.Schema, depth, seed int) map[string]any {
	out := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		p := s.Properties[name]
		required := slices.Contains(s.Required, name)
		if !required && (depth >= fullDepth || (p.Value != nil && p.Value.WriteOnly)) {
			continue
		}
		out[name] = sample(p, depth+1, seed)
	}
	if len(s.Properties) == 0 && s.AdditionalProperties.Schema != nil {
		out["key1"] = sample(s.AdditionalProperties.Schema, depth+1, seed)
	}
	return out
}

func sampleArray(s *openapi3.Schema, depth int) []any {
	n := int(s.MinItems)
	if n == 0 && depth < fullDepth {
		n = 1
	}
	if s.MaxItems != nil {
		n = min(n, int(*s.MaxItems))
	}
	out := make([]any, n)
	for i := range out {
		out[i] = sample(s.Items, depth+1, i)
	}
	return out
}

// sampleNumber is start moved inside the schema's bounds and onto its
// multipleOf.
func sampleNumber(s *openapi3.Schema, start float64, integer bool) float64 {
	step := 1.0
	if !integer {
		step = 0.5
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if s.Min != nil {
		lo = *s.Min
		if s.ExclusiveMin.IsTrue() {
			lo += step
		}
	}
	if v := s.ExclusiveMin.Value; v != nil {
		lo = max(lo, *v+step)
	}
	if s.Max != nil {
		hi = *s.Max
		if s.ExclusiveMax.IsTrue() {
			hi -= step
		}
	}
	if v := s.ExclusiveMax.Value; v != nil {
		hi = min(hi, *v-step)
	}
	v := min(max(start, lo), hi)
	if integer {
		v = math.Ceil(v)
	}
	if m := s.MultipleOf; m != nil && *m > 0 {
		v = math.Ceil(v / *m) * *m
		if v > hi {
			v -= *m
		}
	}
	return v
}

// formats are samples for the string formats OpenAPI and JSON Schema
// name.
var formats = map[string]string{
	"date-time": "2024-01-02T03:04:05Z",
	"date":      "2024-01-02",
	"time":      "03:04:05Z",
	"email":     "user@example.com",
	"uuid":      "3fa85f64-5717-4562-b3fc-2c963f66afa6",
	"uri":       "https://example.com/",
	"url":       "https://example.com/",
	"hostname":  "example.com",
	"ipv4":      "192.0.2.1",
	"ipv6":      "2001:db8::1",
	"byte":      "c3RyaW5n",
	"password":  "password",
}

func sampleString(s *openapi3.Schema, seed int) string {
	if v, ok := formats[s.Format]; ok {
		return v
	}
	if s.Pattern != "" {
		if v, ok := fromPattern(s.Pattern, int(s.MinLength), s.MaxLength); ok {
			return v
		}
	}
	v := "string"
	if seed > 0 {
		v += strconv.Itoa(seed)
	}
	if n := int(s.MinLength); len(v) < n {
		v += strings.Repeat("x", n-len(v))
	}
	if s.MaxLength != nil && len(v) > int(*s.MaxLength) {
		v = v[:*s.MaxLength]
	}
	return v
}

// fromPattern is a string the regular expression matches, within the
// lengths, or false. It walks the expression, taking the first branch
// of each choice and repeating what repeats as often as needed for the
// minimum length; the result is checked against the expression.
func fromPattern(pattern string, minLen int, maxLen *uint64) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	check, err := regexp.Compile(pattern)
	if err != nil {
		return "", false
	}
	for _, reps := range []int{0, 1, max(minLen, 2)} {
		var b strings.Builder
		writePattern(&b, re.Simplify(), reps)
		v := b.String()
		n := len([]rune(v))
		if check.MatchString(v) && n >= minLen && (maxLen == nil || n <= int(*maxLen)) {
			return v, true
		}
	}
	return "", false
}

func writePattern(b *strings.Builder, re *syntax.Regexp, reps int) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		b.WriteRune(classRune(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
	case syntax.OpCapture:
		writePattern(b, re.Sub[0], reps)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			writePattern(b, sub, reps)
		}
	case syntax.OpAlternate:
		writePattern(b, re.Sub[0], reps)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		n := reps
		switch re.Op {
		case syntax.OpPlus:
			n = max(n, 1)
		case syntax.OpQuest:
			n = min(n, 1)
		case syntax.OpRepeat:
			n = max(n, re.Min)
			if re.Max >= 0 {
				n = min(n, re.Max)
			}
		}
		for range n {
			writePattern(b, re.Sub[0], reps)
		}
	}
	// Anchors, word boundaries and empty matches write nothing.
}

// classRune picks a readable rune of a character class (ranges as
// pairs): a letter or digit when the class has one.
func classRune(ranges []rune) rune {
	for _, c := range "aA0_-" {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= c && c <= ranges[i+1] {
				return c
			}
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i+1] >= 0x21 {
			return max(ranges[i], 0x21)
		}
	}
	return ranges[0]
}

// text is a generated or example value as a header or parameter value
// (OpenAPI's simple style: an array's items joined by commas).
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, item := range v {
			parts[i] = text(item)
		}
		return strings.Join(parts, ",")
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
