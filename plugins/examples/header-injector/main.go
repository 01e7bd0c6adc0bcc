// Command header-injector is a meshbridge plugin that adds configured
// headers to every request, and optionally to every response.
//
//	header-injector -set "X-Team: payments" -add "Via: mesh" -remove X-Debug \
//	    -response-set "X-Served-By: meshbridge"
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

func main() {
	var set, add, respSet headerFlag
	var remove listFlag
	flag.Var(&set, "set", `request header to set, "Name: value" (repeatable)`)
	flag.Var(&add, "add", `request header value to add, "Name: value" (repeatable)`)
	flag.Var(&remove, "remove", "request header to remove (repeatable)")
	flag.Var(&respSet, "response-set", `response header to set, "Name: value" (repeatable; turns the response phase on)`)
	flag.Parse()
	sdk.RequireHost()
	if len(set.h)+len(add.h)+len(remove)+len(respSet.h) == 0 {
		fmt.Fprintln(os.Stderr, "header-injector: nothing to do: give -set, -add, -remove or -response-set")
		os.Exit(2)
	}

	inj := &injector{request: sdk.HeaderChanges{Set: set.h, Add: add.h, Remove: remove}, response: sdk.HeaderChanges{Set: respSet.h}}
	// Its handlers never wait: calls one at a time save a wake-up each.
	cfg := sdk.ServeConfig{Request: inj, Sequential: true}
	if len(respSet.h) > 0 {
		cfg.Response = inj
	}
	sdk.Serve(cfg)
}

// headerFlag collects "Name: value" flags into a header set.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return fmt.Sprint(f.h) }

func (f *headerFlag) Set(s string) error {
	name, value, err := parseHeader(s)
	if err != nil {
		return err
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, value)
	return nil
}

// listFlag collects repeated string flags.
type listFlag []string

func (f *listFlag) String() string { return fmt.Sprint(*f) }

func (f *listFlag) Set(s string) error {
	*f = append(*f, http.CanonicalHeaderKey(s))
	return nil
}
