# mockserver in an empty image. Build context: a directory holding the static
# binary. Mount the stubs (a WireMock root: mappings/ and __files/) at
# /stubs, the default root ./stubs seen from /. The first WORKDIR creates
# /tmp, where the Nacos client keeps its cache. No shell in the image: probe
# it over HTTP (GET :8080/__admin/health). Registering, give --advertise the
# address callers reach the container on.
FROM scratch
LABEL org.meshbridge.binary="mockserver"
WORKDIR /tmp
WORKDIR /
COPY mockserver /mockserver
EXPOSE 8080 8081
ENTRYPOINT ["/mockserver"]
