# registrysync in an empty image. Build context: a directory holding the
# static binary (make build; CGO_ENABLED=0), e.g. `make images`.
# No shell in the image: probe it over HTTP (GET :8710/healthz); give it
# its configuration as a file (--config), e.g. copied into /data. An
# operator releases its deletion breaker from inside the container:
# `docker exec <container> /registrysync --config FILE --release-breaker`.
FROM scratch
LABEL org.meshbridge.binary="registrysync"
# WORKDIR creates the directories the configuration and the Nacos client's
# log and cache need.
WORKDIR /tmp
WORKDIR /data
COPY registrysync /registrysync
EXPOSE 8710
ENTRYPOINT ["/registrysync"]
