#!/usr/bin/env bash
# A local stand-in for the docker.io/library/node:20-slim base image, for the container test
# (test/backends/knative-container.test.ts): this machine reaches no container registry, so the
# image is made here, as that test's header describes. Debian bookworm (minbase, by debootstrap, from
# the mirror this machine's apt uses) plus this host's node, npm and CA bundle, imported into podman.
# Installs podman, runc and debootstrap (Debian's packages) when they are missing.
#
#   scripts/services/podman-base.sh start    # idempotent: nothing to do when the image exists
#   scripts/services/podman-base.sh status   # exit 0 when the image exists, 3 when not
#   scripts/services/podman-base.sh stop     # removes nothing: the image is a cache, not a daemon
#                                            # (`podman rmi docker.io/library/node:20-slim` drops it)
#
# start prints one line (what it did, or why it failed); the details go to $BURST_PODMAN_BASE_DIR/start.log.
# Needs root on Debian (exit code 2 otherwise). Safe to call from several processes at once: the
# build runs under an flock, and the image gets its name only once it is complete.
#
# Settings (environment):
#   BURST_PODMAN_BASE_DIR  log and the temporary root file system  (default /var/tmp/burst-podman-base)
#   BURST_DEBIAN_MIRROR    mirror for debootstrap   (default: the first bookworm source of apt's lists)
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/common.sh"

IMAGE=docker.io/library/node:20-slim
SUITE=bookworm # what the real node:20-slim is built on
DIR="${BURST_PODMAN_BASE_DIR:-/var/tmp/burst-podman-base}"
LOGFILE="$DIR/start.log"
LOCK="$DIR.lock"
ROOTFS="$DIR/rootfs"
PACKAGES=(podman runc debootstrap)
FALLBACK_MIRROR=http://deb.debian.org/debian
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

image_exists() {
  command -v podman >/dev/null 2>&1 && podman image exists "$IMAGE" 2>/dev/null
}

# The URI of the first enabled "deb" source for $SUITE, in apt's own order: sources.list, then the
# files of sources.list.d (one-line *.list and deb822 *.sources; other names, such as *.disabled,
# apt ignores too). Only schemes debootstrap fetches from (http, https, file).
apt_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
    [ -f "$f" ] || continue
    case "$f" in
    */sources.list | *.list)
      # deb [options] URI suite components...
      awk -v s="$SUITE" '$1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == s) print $i
      }' "$f"
      ;;
    *.sources)
      # Stanzas separated by blank lines; "Key: value" fields; comments start with "#".
      awk -v s="$SUITE" 'BEGIN { RS = ""; FS = "\n" } {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (n = 1; n <= NF; n++) {
          line = $n
          if (line ~ /^[ \t]*#/) continue
          k = tolower(line); sub(/:.*/, "", k); v = line; sub(/^[^:]*:[ \t]*/, "", v)
          if (k == "types") types = v; else if (k == "uris") uris = v
          else if (k == "suites") suites = v; else if (k == "enabled") enabled = tolower(v)
        }
        if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " s " ")) {
          split(uris, u, /[ \t]+/); print u[1]
        }
      }' "$f"
      ;;
    esac
  done | grep -E '^(https?|file):' | head -n 1
}

# Undo what debootstrap may have left (it mounts /proc and /sys in the target), then delete.
remove_rootfs() {
  [ -e "$ROOTFS" ] || return 0
  local m
  for m in $(awk -v r="$ROOTFS" 'index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$ROOTFS"
}

# The build, with its output in the log. Runs in a subshell of its own (see locked_start).
build() {
  local t0=$SECONDS t node npm_dir mirror
  trap remove_rootfs EXIT
  trap 'exit 143' TERM INT # so that a killed start (CI's timeout) still runs the EXIT trap
  node=$(readlink -f "$(command -v node)") || unsupported "no node on PATH to copy into the image"
  npm_dir=$(readlink -f "$(command -v npm)") || unsupported "no npm on PATH to copy into the image"
  npm_dir=${npm_dir%/bin/npm-cli.js} # /usr/lib/node_modules/npm/bin/npm-cli.js -> .../npm
  [ -f "$npm_dir/package.json" ] || unsupported "cannot tell npm's folder from $(command -v npm)"
  [ -f "$CA_BUNDLE" ] || unsupported "no CA bundle at $CA_BUNDLE"

  t=$SECONDS
  ensure_packages "${PACKAGES[@]}"
  local t_apt=$((SECONDS - t))

  mirror=${BURST_DEBIAN_MIRROR:-$(apt_mirror)}
  if [ -z "$mirror" ]; then
    mirror=$FALLBACK_MIRROR
    log "no $SUITE source in apt's lists; using $mirror"
  fi
  remove_rootfs # a killed start's leftovers
  t=$SECONDS
  log "debootstrap --variant=minbase $SUITE from $mirror"
  # No timeout of its own here: timeout would put it in a process group of its own, out of reach of
  # the caller's (CI runs this whole script under timeout, which signals its process group).
  debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$mirror" >&2 || {
    tail_logs "$ROOTFS/debootstrap/debootstrap.log" # it goes with the root file system
    die "debootstrap from $mirror failed"
  }
  local t_boot=$((SECONDS - t))

  # What node:20-slim has on top of Debian: node and npm in /usr/local, a "node" user (uid 1000).
  # The CA bundle lets npm reach the registry through whatever this host trusts.
  t=$SECONDS
  install -D -m 0755 "$node" "$ROOTFS/usr/local/bin/node"
  mkdir -p "$ROOTFS/usr/local/lib/node_modules" "$ROOTFS/etc/ssl/certs"
  cp -a "$npm_dir" "$ROOTFS/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
  cp "$CA_BUNDLE" "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
  chroot "$ROOTFS" useradd -u 1000 -m -s /bin/bash node
  chroot "$ROOTFS" /usr/local/bin/node --version >/dev/null || die "node does not run in the new root file system"
  # Not in the image: the downloaded packages and apt's lists (the slim image has neither).
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS/debootstrap"
  tar -C "$ROOTFS" --numeric-owner -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
    --change 'CMD ["node"]' - "$IMAGE" >&2 || die "podman import failed"
  local t_import=$((SECONDS - t))
  remove_rootfs
  podman image exists "$IMAGE" || die "podman import did not make $IMAGE"
  echo "$IMAGE made in $((SECONDS - t0))s (apt ${t_apt}s, debootstrap ${t_boot}s, import ${t_import}s; node $("$node" --version), Debian $SUITE from $mirror)" >"$DIR/summary"
  log "$(cat "$DIR/summary")"
}

locked_start() {
  if image_exists; then
    echo "podman-base: $IMAGE already present"
    return 0
  fi
  local t0=$SECONDS rc
  rm -f "$DIR/summary"
  # set -e does not apply inside a subshell on the left of || (see attempts in common.sh).
  set +e
  (
    set -e
    build
  ) >"$LOGFILE" 2>&1 9>&-
  rc=$?
  set -e
  if [ $rc = 0 ]; then
    echo "podman-base: $(cat "$DIR/summary")"
  else
    echo "podman-base: FAILED (exit $rc) after $((SECONDS - t0))s: $(grep -v '^\s*$' "$LOGFILE" | tail -n 1) (log: $LOGFILE)"
    exit $rc # not return: that would fire common.sh's ERR trap, a second line that says nothing new
  fi
}

case "${1:-}" in
start)
  require_root_and_apt
  mkdir -p "$DIR"
  if image_exists; then # the common case, without waiting for the lock
    echo "podman-base: $IMAGE already present"
    exit 0
  fi
  with_lock "$LOCK" 1800 locked_start
  ;;
stop)
  # Nothing runs, and the image is worth keeping (it takes a minute or two to make again).
  echo "podman-base: nothing to stop; $IMAGE is kept (podman rmi $IMAGE removes it)"
  ;;
status)
  if image_exists; then
    echo "podman-base: $IMAGE present ($(podman image inspect --format '{{.Created}}' "$IMAGE" 2>/dev/null | cut -c1-19))"
  else
    echo "podman-base: $IMAGE not present"
    exit 3
  fi
  ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 64
  ;;
esac
