#!/usr/bin/env bash
# Three throw-away "hosts" for the HTTP worker tests: network namespaces burst-s1..burst-s3 on their
# own bridge (burstbr1, 10.78.0.1/24; hosts at 10.78.0.11-13). The tests start `burst worker serve`
# inside each with `nsenter --net=/run/netns/burst-sN`; from there the Ceph gateway (which listens on
# every address) is at the bridge's host end, 10.78.0.1. Only the network lives here: no daemons.
#
# Usage: serve-hosts.sh start|stop|status|env     (start and stop are idempotent)
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/common.sh"

BRIDGE="${BURST_SERVE_BRIDGE:-burstbr1}"
PREFIX="${BURST_SERVE_PREFIX:-10.78.0}"
HOST_ADDR="$PREFIX.1"
HOSTS=(burst-s1 burst-s2 burst-s3)
LOCK=/var/lock/burst-serve-hosts.lock
PACKAGES=(iproute2 util-linux)

host_addr() { echo "$PREFIX.$((10 + ${1#burst-s}))"; } # burst-s1 -> 10.78.0.11

is_running() {
  ip -br addr show "$BRIDGE" 2>/dev/null | grep -qF "$HOST_ADDR/24" || return 1
  local h
  for h in "${HOSTS[@]}"; do
    [ -e "/run/netns/$h" ] || return 1
    ip -n "$h" -br addr show eth0 2>/dev/null | grep -q "UP.*$(host_addr "$h")/24" || return 1
  done
}

do_start() {
  ensure_packages "${PACKAGES[@]}"
  if is_running; then
    log "already up: ${HOSTS[*]} on $BRIDGE ($HOST_ADDR/24)"
    return 0
  fi
  local specs=() h
  for h in "${HOSTS[@]}"; do specs+=("$h=$(host_addr "$h")"); done
  bridge_namespaces "$BRIDGE" "$HOST_ADDR" "${specs[@]}"
  # Other host addresses (e.g. the Slurm bridge's 10.77.0.1) are reached through this host too.
  for h in "${HOSTS[@]}"; do ip -n "$h" route replace default via "$HOST_ADDR" dev eth0; done
  is_running || die "the namespaces did not come up"
  log "up: ${HOSTS[*]} on $BRIDGE ($HOST_ADDR/24)"
}

do_stop() {
  drop_bridge_namespaces "$BRIDGE" "${HOSTS[@]}"
}

print_env() {
  local addrs=() h
  for h in "${HOSTS[@]}"; do addrs+=("$(host_addr "$h")"); done
  cat <<EOT
export BURST_TEST_SERVE_HOSTS=$(IFS=,; echo "${HOSTS[*]}")
export BURST_TEST_SERVE_ADDRS=$(IFS=,; echo "${addrs[*]}")
export BURST_TEST_SERVE_HOST_ADDR=$HOST_ADDR
EOT
}

case "${1:-}" in
start)
  require_root_and_apt
  with_lock "$LOCK" 300 do_start
  ;;
stop)
  require_root_and_apt
  with_lock "$LOCK" 300 do_stop
  log "stopped"
  ;;
status)
  if is_running; then echo "serve-hosts: up (${HOSTS[*]})"; else
    echo "serve-hosts: down"
    exit 3
  fi
  ;;
env) print_env ;;
*)
  echo "usage: $0 start|stop|status|env" >&2
  exit 64
  ;;
esac
