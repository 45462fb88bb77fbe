# Shared helpers for scripts/services/{ceph,slurm}.sh. Sourced, not run.
#
# Both scripts start real services (a Ceph RADOS Gateway, a two-node Slurm cluster) for the tests.
# They are called from several test processes at once, so every state-changing command runs under
# an flock, and every check is cheap enough to repeat on each call.

# The private network of the Slurm "hosts" (see slurm.sh). The host end of the bridge is also the
# address by which jobs on the nodes reach the Ceph gateway, so ceph.sh needs it too.
BURST_NET_BRIDGE="${BURST_NET_BRIDGE:-burstbr0}"
BURST_NET_PREFIX="${BURST_NET_PREFIX:-10.77.0}"
BURST_NET_HOST_ADDR="${BURST_NET_PREFIX}.1"

# set -e exits without a word; say which command failed, so a CI log shows the cause.
# (Not for a subshell that exits with a code of its own: die and unsupported said why already.)
set -E
trap 'on_err $? "$BASH_COMMAND" "${BASH_SOURCE[0]##*/}:$LINENO"' ERR
on_err() {
  case "$2" in with_lock* | \(*) return 0 ;; esac
  log "failed (exit $1) at $3: $2"
}

log() { printf '[%s %s] %s\n' "$(basename "$0" .sh)" "$(date +%T)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# Exit code 2 means "this machine cannot run the service" (not root, no apt, not Linux): the test
# helper (test/services.ts) turns it into a skip, or a failure when BURST_REQUIRE_SERVICES=1.
unsupported() {
  log "UNSUPPORTED: $*"
  exit 2
}

require_root_and_apt() {
  [ "$(uname -s)" = Linux ] || unsupported "needs Linux, this is $(uname -s)"
  [ "$(id -u)" = 0 ] || unsupported "needs root (it installs Debian packages and starts daemons as root)"
  command -v apt-get >/dev/null && command -v dpkg-query >/dev/null ||
    unsupported "needs a Debian-like system with apt-get"
}

# Run "$@" holding the exclusive lock file $1 (waiting at most $2 seconds for it), on fd 9.
with_lock() {
  local file=$1 wait=$2
  shift 2
  mkdir -p "$(dirname "$file")"
  (
    flock -w "$wait" 9 || die "timed out after ${wait}s waiting for lock $file"
    "$@"
  ) 9>"$file"
}

# Start a daemon. It must not inherit the lock fds (8, 9: it would hold the lock for its whole life
# and the next start would wait forever) nor our stdout/stderr (a caller reading them to the end,
# like Node's execFile, would never see the end). Its output goes to log file $1.
launch() {
  local logfile=$1
  shift
  "$@" </dev/null >>"$logfile" 2>&1 8>&- 9>&-
}

# Install the Debian packages that are missing, in one apt-get call. apt-get update only when apt
# does not know one of them (a fresh machine), because the update alone costs seconds.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  # One lock for both scripts: two apt-get runs at once would fight over the dpkg lock.
  mkdir -p /var/lock
  (
    flock -w 900 8 || die "timed out waiting for lock /var/lock/burst-apt.lock"
    _apt_install "${missing[@]}"
  ) 8>/var/lock/burst-apt.lock
}

_apt_install() {
  local p need_update=0
  for p in "$@"; do
    apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]' || need_update=1
  done
  export DEBIAN_FRONTEND=noninteractive
  if [ $need_update = 1 ]; then
    log "apt-get update"
    apt-get update -qq >&2 || unsupported "apt-get update failed"
  fi
  log "installing: $*"
  # --no-install-recommends: the recommends pull in ceph-mgr, python stacks and more we don't use.
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "$@" >&2 ||
    unsupported "apt-get install $* failed"
}

# Run the start function $2 up to $1 times: a daemon that starts wrong now and then (a race inside
# it) should cost seconds, not a red CI. Each attempt begins by clearing what the last one left.
# The function runs in a subshell with set -e of its own (set -e is off inside a function called
# from an "if" or "||", hence the set +e dance).
attempts() {
  local n=$1 fn=$2 i rc=0
  for ((i = 1; i <= n; i++)); do
    set +e
    (
      set -e
      "$fn"
    )
    rc=$?
    set -e
    [ $rc = 0 ] && return 0
    [ $rc = 2 ] && exit 2 # unsupported here: trying again will not help
    [ $i -lt "$n" ] && log "attempt $i of $n failed (exit $rc); trying again"
  done
  exit $rc
}

# True when the pid in file $1 is alive and its command name starts with $2 (a pid file left by a
# killed session can name a pid that was reused by an unrelated process).
pid_alive() {
  local file=$1 name=$2 pid comm
  [ -s "$file" ] || return 1
  pid=$(tr -dc 0-9 <"$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ "$comm" == "$name"* ]]
}

# Stop the process named in pid file $1 (if it is alive and called $2): TERM, wait up to $3 s, KILL.
stop_pidfile() {
  local file=$1 name=$2 wait=${3:-15} pid i
  if pid_alive "$file" "$name"; then
    pid=$(tr -dc 0-9 <"$file")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < wait * 10; i++)); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$file"
}

# A fingerprint of the script that starts a service (and of this file): written to the service's
# "ready" file at start, so that a running service started by an older version of the script is
# restarted with the new settings rather than silently kept.
script_version() {
  cat "$0" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16
}

# Print the last lines of each log file given, for error messages.
tail_logs() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    printf '\n----- last lines of %s -----\n' "$f" >&2
    tail -n "${TAIL_LINES:-25}" "$f" >&2
  done
}

# A TCP port that something other than us already listens on makes a start fail with a clear message.
port_in_use() {
  local port=$1
  ss -Hltn "sport = :$port" 2>/dev/null | grep -q .
}

# A bridge $1 on the host with the address $2/24 and, for each "name=address" after them, a network
# namespace joined to it by a veth pair (its end is eth0 in the namespace). Idempotent: namespaces and
# links outlive the processes of a killed session, so reuse what is there.
bridge_namespaces() {
  local bridge=$1 host_addr=$2 spec n host_if
  shift 2
  ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
  ip addr replace "$host_addr/24" dev "$bridge"
  ip link set "$bridge" up
  for spec in "$@"; do
    n=${spec%%=*}
    host_if="$n-h" # veth names are limited to 15 characters
    [ -e "/run/netns/$n" ] || ip netns add "$n"
    if ! ip link show "$host_if" >/dev/null 2>&1; then
      ip -n "$n" link del eth0 2>/dev/null || true
      ip link add "$host_if" type veth peer name eth0 netns "$n"
    fi
    ip link set "$host_if" master "$bridge" up
    ip -n "$n" addr replace "${spec#*=}/24" dev eth0
    ip -n "$n" link set eth0 up
    ip -n "$n" link set lo up # processes may talk to themselves on 127.0.0.1
  done
}

# Removes the namespaces named after $1 and their links, then the bridge $1.
drop_bridge_namespaces() {
  local bridge=$1 n
  shift
  for n in "$@"; do
    ip link del "$n-h" 2>/dev/null || true
    if [ -e "/run/netns/$n" ]; then ip netns del "$n" 2>/dev/null || true; fi
  done
  ip link del "$bridge" 2>/dev/null || true
}
