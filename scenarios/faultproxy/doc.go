// Package faultproxy is a small TCP proxy that scenarios put in front of a
// component to break its links on demand, in the manner of toxiproxy: add
// latency (with jitter) to the data flowing back to callers, or cut every
// connection and refuse new ones until healed.
package faultproxy
