#!/usr/bin/env bash
# A Redis server for the tests of the distributed primitives (queues, locks, …). Debian's
# redis-server, on its own port and folder, with a password: it listens on 127.0.0.1 and on the host
# end of the Slurm nodes' bridge (10.77.0.1, see common.sh) so that jobs in the node namespaces reach
# it; every connection must authenticate (requirepass), and nothing is kept on disk.
#
#   scripts/services/redis.sh start    # idempotent; returns once the server answers PING
#   scripts/services/redis.sh stop     # stops the server and deletes its folder
#   scripts/services/redis.sh status   # exit 0 when running, 3 when not
#   scripts/services/redis.sh env      # shell exports for the tests: eval "$(redis.sh env)"
#
# Needs root on Debian (exit code 2 otherwise, which the tests turn into a skip). Safe to call from
# several processes at once: start and stop run under an flock.
#
# Settings (environment):
#   BURST_REDIS_DIR    state, password and log  (default /var/tmp/burst-redis)
#   BURST_REDIS_PORT   port                     (default 6390: not Redis's usual 6379)
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/common.sh"

DIR="${BURST_REDIS_DIR:-/var/tmp/burst-redis}"
PORT="${BURST_REDIS_PORT:-6390}"
LOCK="$DIR.lock"
PACKAGES=(redis-server)

password() { cat "$DIR/password" 2>/dev/null; }

answers() {
  [ -s "$DIR/password" ] || return 1
  REDISCLI_AUTH="$(password)" timeout 5 redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG
}

# Running, and listening on the Slurm bridge's address whenever that address exists (a server
# started before the bridge came up is restarted, keeping its password).
is_running() {
  [ "$(cat "$DIR/ready" 2>/dev/null)" = "$(script_version)" ] && pid_alive "$DIR/redis.pid" redis-server && answers || return 1
  if ip -4 addr show 2>/dev/null | grep -q "inet $BURST_NET_HOST_ADDR/"; then
    ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q "$BURST_NET_HOST_ADDR:$PORT" || return 1
  fi
}

do_stop() {
  stop_pidfile "$DIR/redis.pid" redis-server 15
  rm -rf "$DIR"
}

do_start() {
  if is_running; then
    log "already running on port $PORT"
    return 0
  fi
  ensure_packages "${PACKAGES[@]}"
  stop_pidfile "$DIR/redis.pid" redis-server 15
  if port_in_use "$PORT"; then die "port $PORT is in use by another program (set BURST_REDIS_PORT)"; fi
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  [ -s "$DIR/password" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/password")
  # "-" before an address: bind it when it exists (the Slurm bridge may come up later or never).
  (umask 077 && cat >"$DIR/redis.conf" <<CONF
bind 127.0.0.1 -$BURST_NET_HOST_ADDR
port $PORT
protected-mode yes
requirepass $(password)
daemonize yes
pidfile $DIR/redis.pid
logfile $DIR/redis.log
dir $DIR
save ""
appendonly no
CONF
  )
  launch "$DIR/launch.out" redis-server "$DIR/redis.conf" || { tail_logs "$DIR/redis.log" "$DIR/launch.out"; die "redis-server exited with $?"; }
  local i
  for ((i = 0; i < 100; i++)); do
    answers && break
    sleep 0.1
  done
  answers || { tail_logs "$DIR/redis.log"; do_stop; die "redis did not answer PING within 10 s"; }
  script_version >"$DIR/ready"
  log "started: redis://127.0.0.1:$PORT (cluster nodes: redis://$BURST_NET_HOST_ADDR:$PORT), password in $DIR/password"
}

print_env() {
  [ -s "$DIR/password" ] || die "not running (no $DIR/password): run $0 start"
  cat <<EOF2
export BURST_TEST_REDIS_URL=redis://:$(password)@127.0.0.1:$PORT
export BURST_TEST_REDIS_URL_CLUSTER=redis://:$(password)@$BURST_NET_HOST_ADDR:$PORT
EOF2
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
  if is_running; then
    echo "redis: running on port $PORT"
  else
    echo "redis: not running"
    exit 3
  fi
  ;;
env) print_env ;;
*)
  echo "usage: $0 start|stop|status|env" >&2
  exit 64
  ;;
esac
