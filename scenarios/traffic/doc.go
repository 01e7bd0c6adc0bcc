// Package traffic is the scenarios' open-loop load generator: requests start
// on a fixed schedule whatever the answers' latency (so a slow service shows
// up as latency and overload, not as a politely lower rate), a share of them
// is coloured with extra headers, and every answer is recorded with the
// versions of the demo apps that served it.
package traffic
