#!/usr/bin/env bash
# Prints the facts a benchmark figure needs beside it.
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) x $(nproc)"
echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "go: $(go version | cut -d' ' -f3-)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
