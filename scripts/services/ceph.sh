#!/usr/bin/env bash
# A single-host Ceph cluster with a RADOS Gateway (S3) for the tests: one monitor, one memstore OSD,
# one radosgw, and a fixed S3 test user. Installs Debian's packages when they are missing.
#
#   scripts/services/ceph.sh start    # idempotent; returns once the gateway answers S3 requests
#   scripts/services/ceph.sh stop     # stops the daemons and deletes all state (data is in memory)
#   scripts/services/ceph.sh status   # exit 0 when running, 3 when not
#   scripts/services/ceph.sh env      # shell exports for the tests: eval "$(ceph.sh env)"
#
# Needs root on Debian (exit code 2 otherwise, which the tests turn into a skip). Safe to call from
# several processes at once: start and stop run under an flock.
#
# Settings (environment):
#   BURST_CEPH_DIR      state, config and logs            (default /var/tmp/burst-ceph)
#   BURST_CEPH_PORT     gateway port, on every address    (default 7480)
#   BURST_CEPH_MON_PORT monitor port on 127.0.0.1         (default 6789)
#   BURST_CEPH_MEMSTORE_BYTES  OSD capacity, held in RAM  (default 8 GiB: room for the 1 GiB
#                              benchmark objects and the tests. The OSD's memory is about twice
#                              the data it holds, so 8 GiB of data is ~16 GiB of this 24 GiB machine)
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/common.sh"

DIR="${BURST_CEPH_DIR:-/var/tmp/burst-ceph}"
PORT="${BURST_CEPH_PORT:-7480}"
MON_PORT="${BURST_CEPH_MON_PORT:-6789}"
MEMSTORE_BYTES="${BURST_CEPH_MEMSTORE_BYTES:-$((8 * 1024 * 1024 * 1024))}"
CONF="$DIR/ceph.conf"
LOCK="$DIR.lock" # beside the folder, which stop deletes
RGW_NAME=client.rgw.burst
# Fixed test credentials: this gateway holds nothing but test data.
ACCESS_KEY=BURSTTESTACCESSKEY01
SECRET_KEY=bursttestsecretkey0123456789abcdefghijkl
REGION=us-east-1
PACKAGES=(ceph-mon ceph-osd radosgw ceph-common curl iproute2 util-linux)
START_TIMEOUT="${BURST_CEPH_START_TIMEOUT:-180}"

ceph_cli() { timeout 60 ceph -c "$CONF" --connect-timeout 30 "$@"; }

write_conf() {
  local fsid=$1
  mkdir -p "$DIR"/{mon,osd,log,run,rgw}
  cat >"$CONF" <<EOF
# Written by scripts/services/ceph.sh: a throw-away single-host test cluster.
[global]
fsid = $fsid
# msgr2 on loopback only: the daemons and the CLI all run on this host. (With the v1 messenger
# and no auth, a client now and then sent its first command before it had the monmap, with a
# zero fsid, and the monitor refused it.)
mon_host = v2:127.0.0.1:$MON_PORT
public_addr = 127.0.0.1
ms_bind_msgr1 = false
# No cephx: there is nothing to protect, and it saves the keyring plumbing.
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
# One OSD: pools of size 1, failure domain "osd", few PGs (the default 32 per pool times the
# gateway's ~7 pools would pass the per-OSD PG limit and pool creation would fail).
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_allow_pool_delete = true
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_max_pg_per_osd = 1000
# All state in one folder, so "stop" can delete it.
run_dir = $DIR/run
pid_file = $DIR/run/\$name.pid
admin_socket = $DIR/run/\$name.asok
log_file = $DIR/log/\$name.log
mon_data = $DIR/mon/\$cluster-\$id
osd_data = $DIR/osd/\$cluster-\$id
keyring = $DIR/keyring
# Data lives in the OSD's memory: no disk to prepare, fast, gone at stop.
osd_objectstore = memstore
memstore_device_bytes = $MEMSTORE_BYTES
# A memstore "disk" in RAM is never really full until RAM is; don't stop writes early.
mon_osd_full_ratio = 0.99
mon_osd_nearfull_ratio = 0.98
osd_failsafe_full_ratio = 0.995
# The script puts the OSD in the CRUSH map itself. Left to do it at start, the OSD now and then
# sends its command before it knows the cluster's fsid, is refused ("wrong fsid") and exits.
osd_crush_update_on_start = false
osd_class_update_on_start = false

[$RGW_NAME]
# "port=" listens on every address, so jobs on the Slurm nodes (in their own network namespaces)
# reach the gateway at the host end of their bridge. The machine is a test machine.
# tcp_nodelay: without it small GETs wait ~40 ms on Nagle + delayed ACK (measured 46 ms vs 3 ms HEAD).
rgw_frontends = beast port=$PORT tcp_nodelay=1
rgw_data = $DIR/rgw
# Without these two the gateway loops for 300 s and exits with "failed to fetch mon config".
ms_mon_client_mode = crc
auth_client_required = none
# Free the space of deleted objects within a minute, not two hours: the data is in RAM.
rgw_gc_obj_min_wait = 30
rgw_gc_processor_period = 30
EOF
}

gateway_answers() {
  curl -s -m 5 "http://127.0.0.1:$PORT/" 2>/dev/null | grep -q '<?xml'
}

is_running() {
  [ "$(cat "$DIR/ready" 2>/dev/null)" = "$(script_version)" ] &&
    pid_alive "$DIR/run/mon.a.pid" ceph-mon &&
    pid_alive "$DIR/run/osd.0.pid" ceph-osd &&
    pid_alive "$DIR/run/$RGW_NAME.pid" radosgw &&
    gateway_answers
}

stop_daemons() {
  stop_pidfile "$DIR/run/$RGW_NAME.pid" radosgw 15
  stop_pidfile "$DIR/run/osd.0.pid" ceph-osd 15
  stop_pidfile "$DIR/run/mon.a.pid" ceph-mon 15
}

do_stop() {
  stop_daemons
  rm -rf "$DIR"
}

# Wait up to $1 seconds for "$2 ..." to succeed; on timeout print the log tails and fail.
wait_for() {
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 4; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  failed "timed out after ${secs}s waiting for $what"
}

# A start that fails stops what it started (no half cluster holding memory) but keeps the logs.
failed() {
  log "$1"
  tail_logs "$DIR"/log/*.log
  stop_daemons
  die "ceph did not start: $1 (logs in $DIR/log)"
}

osd_up() { ceph_cli osd stat -f json | grep -q '"num_up_osds":1'; }

do_start() {
  if is_running; then
    log "already running on port $PORT"
    return 0
  fi
  ensure_packages "${PACKAGES[@]}"
  attempts 2 bootstrap
}

bootstrap() {
  # Whatever is left (a killed session's daemons or files) is stale: memstore lost its data with the
  # OSD process, so start from scratch rather than repair.
  do_stop
  if port_in_use "$PORT"; then die "port $PORT is in use by another program (set BURST_CEPH_PORT)"; fi
  if port_in_use "$MON_PORT"; then die "port $MON_PORT is in use (set BURST_CEPH_MON_PORT)"; fi
  local t0=$SECONDS fsid osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"

  # Monitor. mkfs wants a keyring with a mon. key even when auth is off.
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null ||
    failed "ceph-authtool failed"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null ||
    failed "monmaptool failed"
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" >>"$DIR/log/daemons.out" 2>&1 ||
    failed "ceph-mon --mkfs failed"
  # Each daemon forks into the background once it is initialized (its exit code says whether).
  launch "$DIR/log/daemons.out" ceph-mon -c "$CONF" -i a || failed "ceph-mon exited with $?"
  wait_for 60 "the monitor" ceph_cli status

  # OSD: register it, place it in the CRUSH map, make its (memory) store, start it.
  [ "$(ceph_cli osd new "$osd_uuid")" = 0 ] || failed "ceph osd new did not return id 0"
  ceph_cli osd crush add osd.0 1.0 root=default >/dev/null 2>&1 || failed "ceph osd crush add failed"
  mkdir -p "$DIR/osd/ceph-0" # memstore's mkfs asserts that its folder exists
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/daemons.out" 2>&1 ||
    failed "ceph-osd --mkfs failed"
  launch "$DIR/log/daemons.out" ceph-osd -c "$CONF" -i 0 || failed "ceph-osd exited with $?"
  wait_for 60 "the OSD to be up" osd_up

  # Gateway: creates its pools on first start, then serves S3.
  launch "$DIR/log/daemons.out" radosgw -c "$CONF" -n "$RGW_NAME" || failed "radosgw exited with $?"
  wait_for "$START_TIMEOUT" "the gateway on port $PORT" gateway_answers
  radosgw-admin -c "$CONF" user create --uid=burst-test --display-name="Burst tests" \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" --max-buckets=100000 >/dev/null ||
    failed "radosgw-admin user create failed"
  script_version >"$DIR/ready"
  log "started in $((SECONDS - t0))s: S3 at http://127.0.0.1:$PORT (cluster nodes: http://$BURST_NET_HOST_ADDR:$PORT)"
}

print_env() {
  cat <<EOF
export BURST_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT
export BURST_TEST_S3_ENDPOINT_CLUSTER=http://$BURST_NET_HOST_ADDR:$PORT
export BURST_TEST_S3_ACCESS_KEY=$ACCESS_KEY
export BURST_TEST_S3_SECRET_KEY=$SECRET_KEY
export BURST_TEST_S3_REGION=$REGION
EOF
}

case "${1:-}" in
start)
  require_root_and_apt
  with_lock "$LOCK" 900 do_start
  ;;
stop)
  require_root_and_apt
  with_lock "$LOCK" 900 do_stop
  log "stopped"
  ;;
status)
  if is_running; then
    echo "ceph: running, S3 at http://127.0.0.1:$PORT"
  else
    echo "ceph: not running"
    exit 3
  fi
  ;;
env) print_env ;;
*)
  echo "usage: $0 start|stop|status|env" >&2
  exit 64
  ;;
esac
