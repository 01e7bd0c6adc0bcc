// Command bench is the sidecar benchmark's toolbox, used by
// scripts/bench-sidecar.sh:
//
//	bench echo    -listen 127.0.0.1:18080 -size 1024       an echo app answering size bytes
//	bench control -listen 127.0.0.1:18700 -dir DIR         a control API over an embedded store
//	bench load    -url URL [-proxy URL] -qps 1000 -duration 10s -body 1024 [-pids 1,2]
//	bench load    -target "label=a;url=URL1" -target "label=b;url=URL2;proxy=URL;pids=1,2" [-max] -block 2s
//	bench load    -url URL -max -conns 32 -duration 5s     closed-loop maximum throughput
//	bench relay   -listen 127.0.0.1:18301 -upstream ADDR   a bare TCP relay (the Go floor)
//	bench h2c     -url URL -admin URL -pid PID -n 5000 -rounds 4   h2c requests in rounds, the sidecar's heap and RSS after each
//	bench h2cdrop -listen 127.0.0.1:18081                  an h2c app that closes every connection at the first request
//	bench rapidreset -addr ADDR -streams 60000             h2c streams reset as soon as they are opened
//
// load is open-loop at a fixed rate (fortio's -uniform -nocatchup: slots
// that find every connection busy are dropped and counted, never sent
// late in a burst), its schedule kept to microseconds (package
// internal/pace), and prints one JSON line per target: latency percentiles, how
// late requests left against the schedule, achieved rate, errors, and the
// CPU seconds and peak RSS of -pids. Several targets take the load in
// turns of -block, so that a noisy machine disturbs them alike. It speaks
// HTTP/1.1 itself (client.go), one goroutine per connection and no
// net/http Transport, and in the open loop the pacer writes the requests
// (paced.go): the generator shares the CPUs with what it measures, so it
// wakes as few threads per request as it can.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench echo|control|load|relay|h2c|h2cdrop|rapidreset [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "echo":
		err = runEcho(os.Args[2:])
	case "control":
		err = runControl(os.Args[2:])
	case "load":
		err = runLoad(os.Args[2:])
	case "relay":
		err = runRelay(os.Args[2:])
	case "h2c":
		err = runH2C(os.Args[2:])
	case "h2cdrop":
		err = runH2CDrop(os.Args[2:])
	case "rapidreset":
		err = runRapidReset(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
