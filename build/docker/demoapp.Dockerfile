# demoapp in an empty image. Build context: a directory holding the static
# binary. The Nacos client keeps its cache under /tmp, created here.
# No shell in the image: probe it over HTTP (GET :8080/actuator/health).
FROM scratch
LABEL org.meshbridge.binary="demoapp"
WORKDIR /tmp
COPY demoapp /demoapp
EXPOSE 8080
ENTRYPOINT ["/demoapp"]
