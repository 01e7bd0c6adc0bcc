// Command canary-cookie is a meshbridge plugin that turns a cookie into the
// header canary rules match on, so a browser session can opt into a canary:
//
//	canary-cookie -cookie canary -header X-Canary -values v2,beta
//
// A request with "Cookie: canary=v2" goes on with "X-Canary: v2".
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

func main() {
	cookie := flag.String("cookie", "canary", "name of the cookie to read")
	header := flag.String("header", "X-Canary", "request header to set from the cookie")
	values := flag.String("values", "", "comma-separated values accepted from the cookie (empty: any value of letters, digits, '.', '-', '_')")
	strip := flag.Bool("strip", false, "remove the header when the request has no accepted cookie, so clients cannot set it directly")
	flag.Parse()
	sdk.RequireHost()
	if *cookie == "" || *header == "" {
		fmt.Fprintln(os.Stderr, "canary-cookie: -cookie and -header must not be empty")
		os.Exit(2)
	}
	c := &canary{cookie: *cookie, header: http.CanonicalHeaderKey(*header), strip: *strip}
	for _, v := range strings.Split(*values, ",") {
		if v = strings.TrimSpace(v); v != "" {
			c.allowed = append(c.allowed, v)
		}
	}
	// The handler never waits: calls one at a time save a wake-up each.
	sdk.Serve(sdk.ServeConfig{Request: c, Sequential: true})
}
