# registry-adapter in an empty image. Build context: a directory holding the
# static binary (make build; CGO_ENABLED=0), e.g. `make images`.
# No shell in the image: probe it over HTTP (GET :8700/readyz).
FROM scratch
LABEL org.meshbridge.binary="registry-adapter"
# WORKDIR creates the directories the store and temp files need.
WORKDIR /tmp
WORKDIR /data
COPY registry-adapter /registry-adapter
EXPOSE 8700 8761 8500 8848 9848
ENTRYPOINT ["/registry-adapter", "--data-dir", "/data"]
