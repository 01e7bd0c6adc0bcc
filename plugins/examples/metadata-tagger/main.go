// Command metadata-tagger is a meshbridge instance transformer: it adds
// metadata to every registered instance and rejects instances that lack a
// required key.
//
//	metadata-tagger -set env=prod -default team=unknown -require version
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

func main() {
	t := &tagger{set: map[string]string{}, defaults: map[string]string{}}
	flag.Var(pairs(t.set), "set", "metadata key=value to set on every instance, replacing the client's (repeatable)")
	flag.Var(pairs(t.defaults), "default", "metadata key=value to add when the client set none (repeatable)")
	flag.Func("require", "metadata key every instance must carry with a non-empty value (repeatable)", func(k string) error {
		if k = strings.TrimSpace(k); k == "" {
			return fmt.Errorf("empty key")
		}
		t.required = append(t.required, k)
		return nil
	})
	flag.Parse()
	sdk.RequireHost()
	if len(t.set)+len(t.defaults)+len(t.required) == 0 {
		fmt.Fprintln(os.Stderr, "metadata-tagger: nothing to do: give -set, -default or -require")
		os.Exit(2)
	}
	// The transformer never waits: calls one at a time save a wake-up each.
	sdk.Serve(sdk.ServeConfig{Instances: t, Sequential: true})
}

// pairs is a repeatable key=value flag filling a map.
type pairs map[string]string

func (p pairs) String() string { return fmt.Sprint(map[string]string(p)) }

func (p pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if k = strings.TrimSpace(k); !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	p[k] = strings.TrimSpace(v)
	return nil
}
