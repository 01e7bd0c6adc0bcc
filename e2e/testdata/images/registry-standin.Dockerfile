# A stand-in for a registry server image (hashicorp/consul, say) in the e2e
# suite, which cannot pull: meshbridge's registry-adapter in an empty image,
# built by the suite from its static binary as meshbridge-e2e/registry-standin:test.
# With no arguments it serves every registry API on its default port; a
# scenario's args pick the one it needs. No shell: probe it over HTTP.
FROM scratch
LABEL org.meshbridge.e2e="registry-standin"
WORKDIR /tmp
WORKDIR /data
COPY registry-adapter /registry-adapter
ENTRYPOINT ["/registry-adapter", "--data-dir", "/data"]
