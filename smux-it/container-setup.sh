#!/usr/bin/env bash
# Makes this machine ready for smux-it's container backend (Toxiproxy through Testcontainers), the way CI does.
#
#   smux-it/container-setup.sh        1. install docker.io if there is no Docker engine (needs root, apt-get)
#                                     2. start dockerd if none answers, and record that this script started it
#                                     3. build the Toxiproxy image the suite pins, ghcr.io/shopify/toxiproxy:<version>,
#                                        from Toxiproxy's Go module when it is not there (no registry needed)
#                                     4. check that the image runs and reports that version
#   smux-it/container-setup.sh stop   remove containers a test run left behind (exit 3 if there were any), and
#                                     stop the dockerd that step 2 started (an engine found running is left alone)
#
# Idempotent: when everything is in place it takes about a second. Each step prints its time.
# The dockerd it starts has no bridge network and sets no iptables rules: the suite runs its container on the
# host network, so the engine changes nothing else on the machine. Its log and pid go to $SMUX_CONTAINER_STATE
# (default /tmp/smux-it-container-setup).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
state=${SMUX_CONTAINER_STATE:-${TMPDIR:-/tmp}/smux-it-container-setup}
version=$(sed -n 's/.*String TOXIPROXY_VERSION = "\([^"]*\)";.*/\1/p' \
  "$here/src/test/java/smux/it/toxi/ToxiproxyBackend.java")
image=ghcr.io/shopify/toxiproxy:$version
module=github.com/Shopify/toxiproxy/v2
owner_label=smux-it.toxiproxy.owner   # DockerEngine.OWNER_LABEL

say() { echo "container-setup: $*"; }
die() { echo "container-setup: FAILED: $*" >&2; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# seconds since T0 (from now_ms), with one decimal
since() { local ms=$(($(now_ms) - $1)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
# timed NAME COMMAND...: runs one step and prints how long it took
timed() {
  local name=$1 t0
  shift
  t0=$(now_ms)
  "$@"
  say "$(printf '%-8s %6s s' "$name" "$(since "$t0")")"
}

engine_answers() { timeout 20 docker info >/dev/null 2>&1; }

install_engine() {
  if command -v dockerd >/dev/null 2>&1 || engine_answers; then
    say "install: a Docker engine is installed"
    return
  fi
  [ "$(id -u)" = 0 ] || die "no Docker engine here; installing docker.io needs root (sudo $0)"
  command -v apt-get >/dev/null 2>&1 || die "no Docker engine here and no apt-get: install Docker, then run $0 again"
  say "install: apt-get install docker.io"
  apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null || die "apt-get install docker.io failed"
}

start_engine() {
  if engine_answers; then
    say "engine: answers ($(docker version -f '{{.Server.Version}}' 2>/dev/null)); not started here"
    return
  fi
  if [ -n "${DOCKER_HOST:-}" ]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer; starting a local dockerd would not help"
  fi
  [ "$(id -u)" = 0 ] || die "no Docker engine answers and starting dockerd needs root (sudo $0)"
  mkdir -p "$state"
  say "engine: starting dockerd (log $state/dockerd.log)"
  setsid dockerd --bridge=none --iptables=false >"$state/dockerd.log" 2>&1 </dev/null &
  echo $! >"$state/dockerd.pid"
  local pid deadline
  pid=$(cat "$state/dockerd.pid")
  deadline=$((SECONDS + 60))
  until engine_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$state/dockerd.pid"
      tail -n 20 "$state/dockerd.log" >&2
      die "dockerd exited before it answered (log above, $state/dockerd.log)"
    fi
    [ $SECONDS -lt $deadline ] || die "dockerd (pid $pid) did not answer within 60 s; see $state/dockerd.log"
    sleep 0.2
  done
}

build_image() {
  if docker image inspect "$image" >/dev/null 2>&1; then
    say "image: $image is there"
    return
  fi
  command -v go >/dev/null 2>&1 || die "$image is missing and there is no Go toolchain to build it (Go 1.23+)"
  local platform goos goarch work binary
  platform=$(docker version -f '{{.Server.Os}}/{{.Server.Arch}}')
  goos=${platform%/*}
  goarch=${platform#*/}
  work=$(mktemp -d)
  say "image: building $image from $module@v$version for $platform"
  # What Toxiproxy's release does (its .goreleaser.yml): a static server with the version stamped into
  # $module.Version, so GET /version answers it. A scratch GOPATH keeps the binary apart (cross builds land in
  # bin/<os>_<arch>/); the module and build caches are the usual ones.
  if ! env GOPATH="$work/gopath" GOMODCACHE="$(go env GOMODCACHE)" GOFLAGS=-mod=mod GOWORK=off \
      CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch" \
      go install -trimpath -ldflags "-s -w -X $module.Version=$version" "$module/cmd/server@v$version" \
      >"$work/go-build.log" 2>&1; then
    cat "$work/go-build.log" >&2
    die "go install $module/cmd/server@v$version failed"
  fi
  binary=$(find "$work/gopath/bin" -type f -name server | head -n 1)
  [ -n "$binary" ] || die "go install left no server binary in $work/gopath/bin"
  mkdir "$work/root"
  mv "$binary" "$work/root/toxiproxy"
  # The image Toxiproxy publishes is this binary on an empty filesystem with these settings (its Dockerfile).
  tar -C "$work/root" -c toxiproxy | docker import \
    --change 'ENTRYPOINT ["/toxiproxy"]' \
    --change 'CMD ["-host=0.0.0.0"]' \
    --change 'ENV LOG_LEVEL=info' \
    --change 'EXPOSE 8474' \
    --change "LABEL org.opencontainers.image.version=$version smux-it.built-from=$module@v$version" \
    - "$image" >/dev/null || die "docker import into $image failed"
  rm -rf "$work"
}

check_image() {
  local answer
  answer=$(timeout 60 docker run --rm --network none "$image" -version 2>&1) \
    || die "$image does not run: $answer"
  case "$answer" in
    *"$version"*) say "check: $image runs: $answer" ;;
    *) die "$image reports '$answer', expected version $version" ;;
  esac
}

remove_leftovers() {
  engine_answers || { say "leftovers: no engine answers, nothing to check"; return 0; }
  local ids
  ids=$(docker ps -aq --filter "label=$owner_label")
  if [ -z "$ids" ]; then
    say "leftovers: none (docker ps -a shows no smux-it container)"
    return 0
  fi
  docker ps -a --filter "label=$owner_label" >&2
  # shellcheck disable=SC2086
  docker rm -f $ids >/dev/null
  say "leftovers: removed $(echo "$ids" | wc -l) container(s) a test run left behind (listed above)" >&2
  return 3
}

stop_engine() {
  if [ ! -f "$state/dockerd.pid" ]; then
    if engine_answers; then say "engine: not started by this script; left running"; else say "engine: none running"; fi
    return
  fi
  local pid deadline
  pid=$(cat "$state/dockerd.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
      [ $SECONDS -lt $deadline ] || { kill -9 "$pid" 2>/dev/null || true; break; }
      sleep 0.2
    done
    say "engine: stopped the dockerd this script started (pid $pid)"
  else
    say "engine: the dockerd this script started (pid $pid) had already exited"
  fi
  rm -f "$state/dockerd.pid"
}

[ -n "$version" ] || die "could not read TOXIPROXY_VERSION from ToxiproxyBackend.java"
case "${1:-setup}" in
  setup)
    t_all=$(now_ms)
    timed install install_engine
    timed engine start_engine
    timed image build_image
    timed check check_image
    say "$(printf '%-8s %6s s' ready "$(since "$t_all")")"
    ;;
  stop)
    leftovers=0
    remove_leftovers || leftovers=$?
    stop_engine
    exit "$leftovers"
    ;;
  *)
    echo "usage: $0 [setup|stop]" >&2
    exit 2
    ;;
esac
