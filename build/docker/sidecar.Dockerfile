# sidecar in an empty image. Build context: a directory holding the static
# binary. Run it in the app's network namespace (a pod) and give it
# --egress/--ingress/--admin on 0.0.0.0 to reach them from outside.
# No shell in the image: probe it over HTTP (GET :15000/readyz).
FROM scratch
LABEL org.meshbridge.binary="sidecar"
WORKDIR /tmp
COPY sidecar /sidecar
EXPOSE 15001 15006 15000
ENTRYPOINT ["/sidecar"]
