// Package sidecar assembles meshbridge's data plane: it builds the egress
// and ingress chains from the config, follows the control plane into a
// routing table, serves the egress, ingress and admin listeners, registers
// and health-checks the local app, and drains on shutdown. The pieces live
// in sub-packages: chain (the handler interface), handlers/* (one folder per
// handler), table (the routing table), proxy (the egress and ingress
// handlers), httpx (the HTTP server and client under them), meshview
// (discovery mode), appcheck (app health), admin and metrics.
package sidecar
