#!/usr/bin/env bash
# Regenerates plugin.pb.go and plugin_grpc.pb.go from plugin.proto (run by
# `make generate` through go generate). The generated files are committed, so
# ordinary builds need none of these tools.
set -euo pipefail
cd "$(dirname "$0")"

# Pinned generator versions: change them here, regenerate, commit.
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1

if ! command -v protoc >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "generate: installing protoc (Debian package protobuf-compiler)" >&2
    apt-get install -y -qq protobuf-compiler >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null; }
  else
    echo "generate: protoc not found; install it (apt-get install -y protobuf-compiler)" >&2
    exit 1
  fi
fi

tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
GOBIN="$tools" GOFLAGS= go install "$PROTOC_GEN_GO"
GOBIN="$tools" GOFLAGS= go install "$PROTOC_GEN_GO_GRPC"

protoc \
  --plugin=protoc-gen-go="$tools/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$tools/protoc-gen-go-grpc" \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  plugin.proto
