#!/usr/bin/env bash
# A two-node Slurm cluster on this one machine, for the tests: slurmctld on the host, and two slurmd,
# each in its own network namespace (burst-n1 = 10.77.0.11, burst-n2 = 10.77.0.12, on a bridge whose
# host end is 10.77.0.1), so the two "hosts" have their own addresses. Both nodes share this machine's
# filesystem, so any path under /tmp or /var/tmp is a "shared filesystem". Installs Debian's packages
# when they are missing.
#
#   scripts/services/slurm.sh start    # idempotent; returns once a job runs on both nodes
#   scripts/services/slurm.sh stop     # cancels jobs, stops the daemons, removes the network
#   scripts/services/slurm.sh status   # exit 0 when running, 3 when not
#   scripts/services/slurm.sh env      # shell exports for the tests: eval "$(slurm.sh env)"
#
# Needs root on Debian (exit code 2 otherwise, which the tests turn into a skip). Safe to call from
# several processes at once: start and stop run under an flock.
#
# Job state without slurmdbd (sacct does not work: accounting storage is off): finished jobs stay
# in slurmctld's memory for MinJobAge (1 h here), so `scontrol show job ID` and
# `squeue --states=all -j ID -o '%i %T %r'` give their state and reason (COMPLETED, FAILED,
# TIMEOUT, CANCELLED, NODE_FAIL; OUT_OF_MEMORY is never reported: no cgroups, no memory limit).
#
# Settings (environment):
#   BURST_SLURM_DIR         state and logs    (default /var/tmp/burst-slurm)
#   BURST_SLURM_NODE_CPUS   CPUs each node claims to have (default 32: many small tasks at once)
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/common.sh"

DIR="${BURST_SLURM_DIR:-/var/tmp/burst-slurm}"
CONF=/etc/slurm/slurm.conf # where every Slurm command looks, so sbatch/squeue need no SLURM_CONF
MARKER="# Managed by burst scripts/services/slurm.sh"
LOCK=/var/lock/burst-slurm.lock
PARTITION=batch
NODES=(burst-n1 burst-n2)
NODE_CPUS="${BURST_SLURM_NODE_CPUS:-32}"
CTLD_PORT=6817
PACKAGES=(slurmctld slurmd slurm-client munge curl iproute2 util-linux)
MUNGE_PID=/run/munge/munged.pid

node_addr() { echo "$BURST_NET_PREFIX.$((10 + ${1#burst-n}))"; } # burst-n1 -> 10.77.0.11

# ---- munge: Slurm's authentication; one daemon on the host, its socket is a file the
# namespaced slurmds reach through the shared filesystem.
munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  munge_works && return 0
  stop_pidfile "$MUNGE_PID" munged 5
  # /run/munge is normally made by systemd; munged refuses to run as root.
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 0700 /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  launch /dev/null runuser -u munge -- /usr/sbin/munged
  local i
  for ((i = 0; i < 40; i++)); do munge_works && return 0; sleep 0.25; done
  tail_logs /var/log/munge/munged.log
  die "munged did not start"
}

# ---- network: a bridge on the host and one namespace + veth pair per node (common.sh).
setup_network() {
  local specs=() n
  for n in "${NODES[@]}"; do specs+=("$n=$(node_addr "$n")"); done
  bridge_namespaces "$BURST_NET_BRIDGE" "$BURST_NET_HOST_ADDR" "${specs[@]}"
}

teardown_network() {
  drop_bridge_namespaces "$BURST_NET_BRIDGE" "${NODES[@]}"
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
    die "$CONF exists and was not written by this script; move it away to use the test cluster"
  fi
  mkdir -p "$(dirname "$CONF")" "$DIR"/{ctld,run,log} "${NODES[@]/#/$DIR/spool/}"
  local host
  # slurmctld only starts on a host whose name is SlurmctldHost; the address is the bridge's, so
  # the nodes reach it from their namespaces.
  host=$(hostname -s)
  {
    echo "$MARKER: a throw-away two-node test cluster."
    cat <<EOF
ClusterName=burst
SlurmctldHost=$host($BURST_NET_HOST_ADDR)
SlurmctldPort=$CTLD_PORT
SlurmdPort=6818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# No cgroups (they are not delegated here): track processes by parent pid, no task binding, no
# per-job resource gathering.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
# CR_LLN: each task goes to the least loaded node, so even a 4-task array uses both nodes (without
# it Slurm fills burst-n1 first and a small test would never see a second host).
SelectTypeParameters=CR_CPU,CR_LLN
# Schedule at once, not in batches every few seconds: a 50-task array takes ~3 s instead of ~70 s.
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
# The nodes claim the CPUs and memory written below, not what the hardware has, so many small
# tasks run at once on this 2-core machine.
SlurmdParameters=config_overrides
# Without slurmdbd, a finished job's state and reason come only from slurmctld's memory: keep
# finished jobs there for an hour (scontrol show job / squeue --states=all).
MinJobAge=3600
MaxJobCount=200000
MaxArraySize=100001
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
Waittime=0
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
EOF
    local n
    for n in "${NODES[@]}"; do
      echo "NodeName=$n NodeAddr=$(node_addr "$n") CPUs=$NODE_CPUS RealMemory=16000 State=UNKNOWN"
    done
    echo "PartitionName=$PARTITION Nodes=$(
      IFS=,
      echo "${NODES[*]}"
    ) Default=YES MaxTime=INFINITE State=UP"
  } >"$CONF"
}

# Node states from sinfo, e.g. "burst-n1 idle" per line.
node_states() { timeout 10 sinfo -h -N -p "$PARTITION" -o '%N %t' 2>/dev/null; }

nodes_ready() {
  local s
  s=$(node_states) || return 1
  # idle, mix or alloc (no "*" = not responding, no down/drain/unknown)
  [ "$(grep -cE '^burst-n[0-9]+ (idle|mix|alloc)$' <<<"$s")" = "${#NODES[@]}" ]
}

is_running() {
  [ "$(cat "$DIR/ready" 2>/dev/null)" = "$(script_version)" ] && munge_works && pid_alive "$DIR/run/slurmctld.pid" slurmctld || return 1
  local n
  for n in "${NODES[@]}"; do pid_alive "$DIR/run/slurmd-$n.pid" slurmd || return 1; done
  nodes_ready
}

do_stop() {
  # Cancel jobs first, so no job process outlives its slurmd.
  if pid_alive "$DIR/run/slurmctld.pid" slurmctld; then
    timeout 10 scancel --partition="$PARTITION" 2>/dev/null || true
    local i
    for ((i = 0; i < 40; i++)); do
      [ -z "$(timeout 5 squeue -h -p "$PARTITION" -t running,completing 2>/dev/null)" ] && break
      sleep 0.25
    done
  fi
  stop_daemons
  teardown_network
  rm -rf "$DIR"
}

stop_daemons() {
  local n
  for n in "${NODES[@]}"; do stop_pidfile "$DIR/run/slurmd-$n.pid" slurmd 10; done
  stop_pidfile "$DIR/run/slurmctld.pid" slurmctld 10
  stop_pidfile "$MUNGE_PID" munged 5
}

# A start that fails stops what it started but keeps the logs.
failed() {
  log "$1"
  node_states >&2 || true
  tail_logs "$DIR"/log/*.log
  stop_daemons
  die "slurm did not start: $1 (logs in $DIR/log)"
}

# Wait up to $1 s for "$3 ..." to succeed; on timeout print the log tails and fail.
wait_for() {
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 4; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  failed "timed out after ${secs}s waiting for $what"
}

# A two-task job, one task per node, must print both node names.
both_nodes_run_jobs() {
  local out
  out=$(timeout 60 srun -p "$PARTITION" -N "${#NODES[@]}" --ntasks-per-node=1 \
    bash -c 'echo "$SLURMD_NODENAME"' 2>&1) || {
    log "srun failed: $out"
    return 1
  }
  [ "$(sort -u <<<"$out" | grep -c '^burst-n')" = "${#NODES[@]}" ] || {
    log "srun ran on: $out"
    return 1
  }
}

do_start() {
  if is_running; then
    log "already running: partition $PARTITION, nodes ${NODES[*]}"
    return 0
  fi
  ensure_packages "${PACKAGES[@]}"
  attempts 2 bootstrap
}

bootstrap() {
  local t0=$SECONDS n
  do_stop # whatever is left from a killed session is stale
  if port_in_use "$CTLD_PORT"; then die "port $CTLD_PORT is in use by another program"; fi
  start_munge
  setup_network
  write_conf
  launch "$DIR/log/daemons.out" slurmctld || failed "slurmctld exited with $?"
  wait_for 30 "slurmctld" timeout 5 scontrol ping
  for n in "${NODES[@]}"; do
    # nsenter (not "ip netns exec", which remounts /sys and slurmd then fails on cgroups).
    launch "$DIR/log/daemons.out" nsenter --net="/run/netns/$n" slurmd -N "$n" || failed "slurmd -N $n exited with $?"
  done
  wait_for 60 "both nodes idle" nodes_ready
  both_nodes_run_jobs || failed "a job across both nodes did not run"
  script_version >"$DIR/ready"
  log "started in $((SECONDS - t0))s: partition $PARTITION, nodes ${NODES[*]}"
}

print_env() {
  cat <<EOF
export BURST_TEST_SLURM=1
export BURST_TEST_SLURM_PARTITION=$PARTITION
export BURST_TEST_SLURM_NODES=$(
    IFS=,
    echo "${NODES[*]}"
  )
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
    echo "slurm: running, partition $PARTITION"
    node_states
  else
    echo "slurm: not running"
    exit 3
  fi
  ;;
env) print_env ;;
*)
  echo "usage: $0 start|stop|status|env" >&2
  exit 64
  ;;
esac
