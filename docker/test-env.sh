#!/usr/bin/env bash
# Make this machine ready for the Docker tests (tests/docker), idempotently:
#   1. Debian's Docker engine, Compose v1 and debootstrap (installed as root if missing);
#   2. a running engine (dockerd started in the background if `docker info` fails);
#   3. the base image local/python-base:bookworm (built with debootstrap if missing),
#      because this CI machine cannot pull from a registry.
# Safe to run again: each step checks first and says what it does.
set -euo pipefail

DOCKER=/usr/bin/docker
BASE_IMAGE=${CHINWAG_BASE_IMAGE:-local/python-base:bookworm}
STATE_DIR=${CHINWAG_DOCKER_STATE:-/var/tmp/chinwag-docker}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { printf '[docker/test-env] %s\n' "$*"; }
die() { printf '[docker/test-env] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  [ "$(id -u)" = 0 ] || die "$* needs root (run this script as root, or do it by hand)"
}

# 1. packages ---------------------------------------------------------------
missing=()
for pkg in docker.io docker-compose debootstrap; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root "installing ${missing[*]}"
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -print -quit 2>/dev/null)" ]; then
    apt-get update -qq
  fi
  apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
else
  say "docker.io, docker-compose and debootstrap are installed"
fi
[ -x "$DOCKER" ] || die "$DOCKER is missing even after installing docker.io"

# 2. engine -------------------------------------------------------------------
if "$DOCKER" info >/dev/null 2>&1; then
  say "the Docker engine is running"
else
  as_root "starting dockerd"
  mkdir -p "$STATE_DIR"
  log="$STATE_DIR/dockerd.log"
  say "starting dockerd in the background (log: $log)"
  setsid /usr/sbin/dockerd >"$log" 2>&1 < /dev/null &
  echo $! >"$STATE_DIR/dockerd.pid"
  for _ in $(seq 60); do
    "$DOCKER" info >/dev/null 2>&1 && break
    sleep 1
  done
  "$DOCKER" info >/dev/null 2>&1 || { tail -20 "$log" >&2; die "dockerd did not answer within 60 s"; }
  say "dockerd is up (pid $(cat "$STATE_DIR/dockerd.pid"))"
fi

# 3. base image ---------------------------------------------------------------
if "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  say "base image $BASE_IMAGE exists"
else
  as_root "building $BASE_IMAGE with debootstrap"
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/chinwag-rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  say "building $BASE_IMAGE from Debian bookworm with debootstrap (about a minute)"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 \
    || { tail -20 "$rootfs.log" >&2; die "debootstrap failed (log: $rootfs.log)"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | "$DOCKER" import - "$BASE_IMAGE" >/dev/null
  rm -f "$rootfs.log"
  say "imported $BASE_IMAGE"
fi
say "ready: $("$DOCKER" version --format 'engine {{.Server.Version}}'), $(docker-compose version --short 2>/dev/null | sed 's/^/compose /')"
