#!/usr/bin/env bash
# Builds meshbridge/zookeeper:3.8, a container image of Debian's ZooKeeper,
# without pulling anything: no registry is reachable here, Debian's mirror
# is. debootstrap writes a minimal bookworm with zookeeper and a JRE into a
# folder, which docker imports as an image. The image is cached: a second
# run returns at once (REBUILD=1 builds it again). About 1-4 minutes and
# 900 MB on the project's 2-core machine. With --deps it only installs
# what it needs from this machine's apt (debootstrap), so that a caller can
# do that before running the build beside other apt-get runs (.ci/run).
set -euo pipefail

IMAGE=${IMAGE:-meshbridge/zookeeper:3.8}
MIRROR=${MIRROR:-$(awk '/^URIs:/ && !/security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

if [[ "${1:-}" != --deps && -z "${REBUILD:-}" ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "zookeeper-image: $IMAGE is built"
  exit 0
fi

sudo=$([ "$(id -u)" = 0 ] || echo sudo)
# debootstrap checks bookworm's signatures with Debian's keyring, which a
# Debian machine has (apt needs it) and another one may lack.
if ! command -v debootstrap >/dev/null || [[ ! -e /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap debian-archive-keyring
fi
[[ "${1:-}" == --deps ]] && exit 0

root=$(mktemp -d /tmp/meshbridge-zookeeper-image.XXXXXX)
trap '$sudo rm -rf "$root"' EXIT
echo "zookeeper-image: debootstrap bookworm from $MIRROR into $root"
$sudo debootstrap --variant=minbase --include=zookeeper,default-jre-headless \
  bookworm "$root/fs" "$MIRROR" > "$root/debootstrap.log" 2>&1 || {
  tail -20 "$root/debootstrap.log" >&2; exit 1; }

# One standalone server on 2181 with its data inside the container; the
# AdminServer (8080) off, the four-letter words the readiness checks use on.
# A file of its own: /etc/zookeeper/conf is an absolute link that, followed
# from out here, would land in this machine's own /etc.
$sudo tee "$root/fs/etc/meshbridge-zoo.cfg" >/dev/null <<'CFG'
tickTime=2000
initLimit=10
syncLimit=5
dataDir=/var/lib/meshbridge-zookeeper
clientPort=2181
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat
CFG
$sudo rm -rf "$root/fs/var/cache/apt/archives/"*.deb "$root/fs/var/lib/apt/lists/"*

$sudo tar -C "$root/fs" -c . | docker import \
  --change 'EXPOSE 2181' \
  --change 'WORKDIR /var/lib/meshbridge-zookeeper' \
  --change 'CMD ["java", "-Xmx256m", "-XX:+UseSerialGC", "-cp", "/usr/share/java/zookeeper.jar:/etc/zookeeper/conf", "org.apache.zookeeper.server.quorum.QuorumPeerMain", "/etc/meshbridge-zoo.cfg"]' \
  - "$IMAGE" >/dev/null
echo "zookeeper-image: built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1/1e6}'))"
