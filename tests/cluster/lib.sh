# shellcheck shell=bash
# tests/cluster/lib.sh — sourced by the guest-side drivers of the cluster tier (they run as root
# inside a tests/vm/run VM, never on the host): bounded waits, assertions that explain themselves,
# Corosync + Pacemaker started by hand, litmus-style health endpoints.
#
# Every wait has a deadline; every failure prints `crm_mon -1`, the agent's log, `ipvsadm -Ln` and
# the addresses before exiting 1, and the daemons' logs are copied to $BB_VM_OUT/logs/<node>/.
# Timestamps come from $EPOCHREALTIME and sleeps from `read -t`: under software emulation every
# fork costs ~0.1 s, so the polling loops fork nothing they do not need.

# Variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034
set -uo pipefail

CL_REPO=${CL_REPO:-$(pwd)}
CL_LOG=/var/log/cluster-tier          # in the guest's tmpfs overlay
CL_NODE=${CL_NODE:-node1}
CL_AGENT=/usr/lib/ocf/resource.d/braintree/ocf_big_brother
# The agent's log: pacemaker-execd hands every agent HA_LOGFILE=$PCMK_logfile (and
# HA_LOGFACILITY=daemon, which a busybox syslogd writes to $CL_LOG/syslog), so the agent's and its
# supervisor's lines are the ocf_big_brother / big_brother-supervise lines of pacemaker.log. The
# tests' own runs of the agent log to the same file.
export PCMK_logfile=$CL_LOG/pacemaker.log
export HA_LOGFILE=$PCMK_logfile
export HA_RSCTMP=/run/resource-agents
CL_T0=${EPOCHREALTIME/./}
CL_PIDS=()                            # background processes we started (ended by pid at exit)

mkdir -p "$CL_LOG" "$CL_LOG/health"
chmod 0777 "$CL_LOG"                  # Pacemaker's daemons run as hacluster
# A fifo nobody writes: `read -t` on it is a sleep without a fork.
mkfifo "$CL_LOG/.sleep" 2>/dev/null
exec {CL_SLEEP_FD}<>"$CL_LOG/.sleep"

# Microseconds since the epoch, as an integer.
now_us() { echo "${EPOCHREALTIME/./}"; }
# "12.3" seconds from microseconds.
secs() { printf '%d.%d' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }
nap() { read -r -t "${1:-0.2}" -u "$CL_SLEEP_FD" _ 2>/dev/null || true; }

say() {
  local t=$(($(now_us) - CL_T0))
  printf '[%s %6ss] %s\n' "$CL_NODE" "$(secs "$t")" "$*"
}

# Everything a red run needs to explain itself. Every tool is bounded: a wedged cluster must not
# hang the report.
diagnostics() {
  echo "================ diagnostics ($CL_NODE) ================"
  echo "---- crm_mon -1 --include=all"
  timeout 60 crm_mon -1 --include=all 2>&1 || echo "(crm_mon failed or timed out)"
  echo "---- ipvsadm -Ln"
  timeout 20 ipvsadm -Ln 2>&1
  echo "---- ip -br addr"
  timeout 20 ip -br addr 2>&1
  echo "---- the agent's log (HA_LOGFILE=$HA_LOGFILE: ocf_big_brother and big_brother-supervise), last 80"
  grep -a -E "ocf_big_brother\(|big_brother-supervise\(" "$HA_LOGFILE" 2>/dev/null | tail -n 80
  if [[ -d $HA_RSCTMP/big_brother ]]; then
    local f
    for f in "$HA_RSCTMP"/big_brother/*/status.json; do
      [[ -f $f ]] && { echo "---- $f"; cat "$f"; echo; }
    done
  fi
  ring_report
  echo "---- dmesg, last 30 lines"
  dmesg 2>&1 | tail -n 30
  echo "---- pacemaker.log, last 40 lines"
  tail -n 40 "$PCMK_logfile" 2>&1
  echo "================ end of diagnostics ================"
}

fail() {
  say "FAIL: $*"
  diagnostics
  exit 1
}

pass() { say "ok: $*"; }

# wait_for SECONDS DESCRIPTION COMMAND [ARG...]: run COMMAND every ~0.2 s until it succeeds; fail
# the run (with diagnostics) when SECONDS pass. Prints how long it took.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local start end
  start=$(now_us)
  end=$((start + limit * 1000000))
  while true; do
    if "$@"; then
      CL_WAITED_US=$(($(now_us) - start))
      say "$what after $(secs "$CL_WAITED_US") s"
      return 0
    fi
    (($(now_us) < end)) || fail "timed out after ${limit}s waiting for: $what"
    nap 0.2
  done
}

# ---- reading the kernel without forking ----------------------------------------------------
# /proc/net/ip_vs and /proc/net/fib_trie are what `ipvsadm -Ln` and `ip addr` report; reading them
# with bash builtins lets a watcher sample every few milliseconds.

# ipvs_has_fwmark MARK: the fwmark service exists.
ipvs_has_fwmark() {
  local hex line
  printf -v hex '%08X' "$1"
  while IFS= read -r line; do
    [[ $line == "FWM  $hex "* ]] && return 0
  done </proc/net/ip_vs
  return 1
}

# addr_is_local ADDR: ADDR is configured on some interface (local table of the FIB).
addr_is_local() {
  local line
  while IFS= read -r line; do
    [[ $line == *"|-- $1" ]] && return 0
  done </proc/net/fib_trie
  return 1
}

# ipvs_weights MARK: prints "ADDR=WEIGHT ..." (sorted by address) for the fwmark service, parsed
# from `ipvsadm -Ln` (the operator's view).
ipvs_weights() {
  timeout 20 ipvsadm -Ln -f "$1" 2>/dev/null |
    awk '$1 == "->" && $2 ~ /^[0-9]/ { sub(/:0$/, "", $2); print $2 "=" $4 }' | sort | tr '\n' ' ' |
    sed 's/ $//'
}

# ---- Corosync + Pacemaker by hand ----------------------------------------------------------

# corosync_conf CLUSTER_NAME NAME=ADDR...: the nodelist, knet, votequorum (two_node for two).
corosync_conf() {
  local name=$1
  shift
  local n=$# i=1 spec
  cat <<EOF
totem {
	version: 2
	cluster_name: $name
	crypto_cipher: none
	crypto_hash: none
	transport: knet
EOF
  # The timing profile under test (tests/cluster/failover --token MS); without it Corosync's
  # defaults (Corosync 3: token 3000 ms, consensus 1.2 × token).
  if [[ -n ${CL_TOKEN_MS:-} ]]; then
    printf '\ttoken: %d\n' "$CL_TOKEN_MS"
    [[ -n ${CL_CONSENSUS_MS:-} ]] && printf '\tconsensus: %d\n' "$CL_CONSENSUS_MS"
  fi
  cat <<EOF
}
logging {
	to_stderr: no
	to_logfile: yes
	logfile: $CL_LOG/corosync.log
	to_syslog: no
	timestamp: hires
}
quorum {
	provider: corosync_votequorum
EOF
  if [[ $n -eq 2 ]]; then printf '\ttwo_node: 1\n'; fi
  echo "}"
  echo "nodelist {"
  for spec in "$@"; do
    printf '\tnode {\n\t\tname: %s\n\t\tnodeid: %d\n\t\tring0_addr: %s\n\t}\n' "${spec%%=*}" "$i" "${spec#*=}"
    i=$((i + 1))
  done
  echo "}"
}

# The CIB every node boots with (the tmpfs overlay starts empty): no fencing in a test VM, and a
# 2 s dc-deadtime instead of 20 s so a fresh cluster elects its DC at once. A node that joins a
# running cluster takes the DC's newer CIB instead.
seed_cib() {
  local props=(stonith-enabled=false dc-deadtime=2s "$@") p nv=""
  for p in "${props[@]}"; do
    nv+="<nvpair id=\"cib-bootstrap-options-${p%%=*}\" name=\"${p%%=*}\" value=\"${p#*=}\"/>"
  done
  rm -rf /var/lib/pacemaker/cib/*
  # The schema version this Pacemaker writes, without a round trip through its tools.
  sed "s|<crm_config/>|<crm_config><cluster_property_set id=\"cib-bootstrap-options\">$nv</cluster_property_set></crm_config>|" \
    "$CL_LOG/empty-cib.xml" >/var/lib/pacemaker/cib/cib.xml
  chown hacluster:haclient /var/lib/pacemaker/cib/cib.xml
  chmod 0600 /var/lib/pacemaker/cib/cib.xml
}

corosync_ready() { corosync-cfgtool -s >/dev/null 2>&1; }
# The local node is online in a cluster with a DC (cheap: one CIB query, no scheduler run).
pacemaker_ready() {
  local out
  out=$(timeout 20 crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  local me="<node name=\"$CL_NODE\" id=\"[0-9]+\" online=\"true\""
  [[ $out == *"<current_dc present=\"true\""* && $out =~ $me ]]
}

# nodes_online NAME...: every named node is online and not in standby (what crm_mon's text shows
# as "Online: [ … ]"). crm_mon's whole report is read before matching: `crm_mon | grep -q` under
# pipefail lets grep exit early, crm_mon (which writes its report in several writes) then dies of
# SIGPIPE, and the wait reads a healthy cluster as "not yet".
nodes_online() {
  local out n
  out=$(timeout 20 crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  for n in "$@"; do
    [[ $out =~ \<node\ name=\"$n\"\ id=\"[0-9]+\"\ online=\"true\"\ standby=\"false\" ]] || return 1
  done
}

# group_located: crm_resource places the group on some node (whole answer read, as above).
group_located() {
  local out
  out=$(timeout 20 crm_resource --locate -r "$CL_GROUP" 2>/dev/null) || return 1
  [[ $out == *"is running on"* ]]
}

# stack_start CLUSTER NAME=ADDR... [-- PROPERTY=VALUE...]: write corosync.conf, seed the CIB,
# start syslogd, corosync -f and pacemakerd -f (each in its own session), wait until this node is
# online with a DC. Sets CL_COROSYNC_PID, CL_PACEMAKERD_PID, CL_STACK_US (time to ready).
stack_start() {
  local cluster=$1
  shift
  local nodes=() props=()
  while [[ $# -gt 0 && $1 != -- ]]; do nodes+=("$1"); shift; done
  [[ ${1:-} == -- ]] && { shift; props=("$@"); }
  local t0
  t0=$(now_us)
  mkdir -p /etc/corosync /var/lib/corosync
  corosync_conf "$cluster" "${nodes[@]}" >/etc/corosync/corosync.conf
  cibadmin --empty >"$CL_LOG/empty-cib.xml" || fail "cibadmin --empty failed"
  seed_cib "${props[@]}"
  : >"$CL_LOG/syslog"
  setsid busybox syslogd -n -O "$CL_LOG/syslog" </dev/null >/dev/null 2>&1 &
  CL_PIDS+=($!)
  stack_daemons
  CL_STACK_US=$(($(now_us) - t0))
}

# stack_daemons: corosync -f, then pacemakerd -f (each in its own session), until this node is
# online with a DC. Their pids also go to files: a stack restarted by a later command (see
# stack_restart, run in the command loop's subshell) must still be stopped at the end.
stack_daemons() {
  setsid corosync -f </dev/null >>"$CL_LOG/corosync.out" 2>&1 &
  CL_COROSYNC_PID=$!
  CL_PIDS+=($!)
  echo "$CL_COROSYNC_PID" >"$CL_LOG/corosync.pid"
  wait_for 60 "corosync answers" corosync_ready
  setsid pacemakerd -f </dev/null >>"$CL_LOG/pacemakerd.out" 2>&1 &
  CL_PACEMAKERD_PID=$!
  CL_PIDS+=($!)
  echo "$CL_PACEMAKERD_PID" >"$CL_LOG/pacemakerd.pid"
  wait_for 180 "pacemaker: $CL_NODE online with a DC" pacemaker_ready
}

# Stop Pacemaker (it stops the resources it runs) and then Corosync, by pid (the pid files name
# the running ones), bounded.
stack_stop() {
  local pid
  pid=$(cat "$CL_LOG/pacemakerd.pid" 2>/dev/null) || pid=${CL_PACEMAKERD_PID:-}
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; nap 0.2; done
  fi
  pid=$(cat "$CL_LOG/corosync.pid" 2>/dev/null) || pid=${CL_COROSYNC_PID:-}
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; nap 0.2; done
  fi
}

# stack_restart: this node leaves the cluster and joins it again — Pacemaker stops what it runs
# here, Corosync ends, and both start afresh from the seeded CIB (the running cluster's CIB then
# replaces it, as at a reboot). The deliberate recovery of a Corosync split (tests/cluster/failover).
stack_restart() {
  say "restarting Corosync and Pacemaker on $CL_NODE"
  stack_stop
  local pid
  for pid in $(cat "$CL_LOG/pacemakerd.pid" "$CL_LOG/corosync.pid" 2>/dev/null); do
    kill -0 "$pid" 2>/dev/null && fail "the stack did not stop (pid $pid still runs)"
  done
  seed_cib
  stack_daemons
}

# ---- the Corosync membership -------------------------------------------------------------------
# ring_joined NAME...: this node's Corosync membership holds exactly the named nodes (cmap's
# runtime.members, by node id: corosync_conf gives nodeN the id N). 1 when it does not, 2 when
# Corosync did not answer (not evidence of a split).
ring_joined() {
  local out n want=0 have
  out=$(timeout 20 corosync-cmapctl -b runtime.members 2>/dev/null) || return 2
  for n in "$@"; do
    [[ $out =~ runtime\.members\.${n#node}\.status\ \(str\)\ =\ joined ]] || return 1
    want=$((want + 1))
  done
  have=$(grep -c 'status (str) = joined' <<<"$out")
  [[ $have -eq $want ]]
}
# memberships: how many memberships Corosync formed on this node since it booted.
memberships() { grep -c "A new membership" "$CL_LOG/corosync.log" 2>/dev/null; }
# ring_whole: Corosync's membership and Pacemaker's view both hold node1 and node2, online.
ring_whole() { ring_joined node1 node2 && nodes_online node1 node2; }
# wait_ring_settled LIMIT STABLE: until the ring is whole and no new membership has been formed
# for STABLE seconds (a re-form that keeps both members moves nothing). Returns 3 (after
# ring_report) when LIMIT passes first, or when the other director, once seen in this node's
# membership, drops out of it: Corosync formed a membership without it, so each side's
# Pacemaker may have started the group — a split, even if the ring heals again.
wait_ring_settled() {
  local limit=$1 stable=$2 start end since="" seen m joined=0 r
  start=$(now_us)
  end=$((start + limit * 1000000))
  seen=$(memberships)
  while (($(now_us) < end)); do
    m=$(memberships)
    ring_joined node1 node2
    r=$?
    if [[ $r -eq 0 ]]; then
      joined=1
    elif [[ $r -eq 1 && $joined -eq 1 ]]; then
      say "SPLIT: the other director dropped out of this node's Corosync membership $(secs $(($(now_us) - start))) s into the wait"
      ring_report
      return 3
    fi
    if [[ $m != "$seen" ]]; then
      seen=$m since=""
    elif [[ $joined -eq 1 ]] && nodes_online node1 node2; then
      [[ -n $since ]] || since=$(now_us)
      if (($(now_us) - since >= stable * 1000000)); then
        say "ring whole (node1, node2 joined and online) and unchanged for ${stable} s, after $(secs $(($(now_us) - start))) s"
        return 0
      fi
    else
      since=""
    fi
    nap 0.5
  done
  say "SPLIT: the ring was not whole and settled within ${limit} s"
  ring_report
  return 3
}
# wait_synced_whole LIMIT N PORT...: synced_ports N PORT... within LIMIT seconds (fails the run
# otherwise), except that it returns 3 (after ring_report) when the other director drops out of
# this node's Corosync membership meanwhile: a split, which a sync wait cannot outlast (the split
# node starts the VIP too, and the client's connections that follow it are reset).
wait_synced_whole() {
  local limit=$1 n=$2 start end
  shift 2
  start=$(now_us)
  end=$((start + limit * 1000000))
  while true; do
    if synced_ports "$n" "$@"; then
      say "$n of the client's connections synced to $CL_NODE after $(secs $(($(now_us) - start))) s"
      return 0
    fi
    ring_joined node1 node2
    if [[ $? -eq 1 ]]; then
      say "SPLIT: the other director is not in this node's Corosync membership while $n connections are awaited"
      ring_report
      return 3
    fi
    (($(now_us) < end)) || fail "timed out after ${limit}s waiting for: $n of the client's connections synced to $CL_NODE"
    nap 0.3
  done
}
# ring_report: what Corosync and Pacemaker say of the membership (a split explains itself).
ring_report() {
  echo "---- corosync-cfgtool -s (knet links)"
  timeout 20 corosync-cfgtool -s 2>&1
  echo "---- corosync-cmapctl -b runtime.members"
  timeout 20 corosync-cmapctl -b runtime.members 2>&1
  echo "---- corosync-quorumtool -s"
  timeout 20 corosync-quorumtool -s 2>&1
  echo "---- crm_mon -1 (nodes)"
  timeout 30 crm_mon -1 2>&1 | sed -n '/^Node List/,/^$/p;/Online/p;/OFFLINE/p'
  echo "---- corosync.log: memberships, links, token losses (last 30)"
  grep -a -E "new membership|link:|Token has not|processor failed|Members\[|not scheduled|Retransmit" \
    "$CL_LOG/corosync.log" 2>/dev/null | tail -n 30
}

# Saves the logs for the host (the tmpfs vanishes with the VM) and ends what we started.
cl_exit() {
  local rc=$?
  if [[ -n ${BB_VM_OUT:-} ]]; then
    mkdir -p "$BB_VM_OUT/logs/$CL_NODE"
    cp -r "$CL_LOG"/*.log "$CL_LOG"/*.out "$CL_LOG/syslog" "$BB_VM_OUT/logs/$CL_NODE/" 2>/dev/null
  fi
  local pid
  litmus_stop_all
  for pid in "${CL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  exit "$rc"
}
trap cl_exit EXIT

# ---- health endpoints ------------------------------------------------------------------------

# litmus_start ADDR: a litmus_paper-style endpoint on ADDR:80 (the address must be local); its
# health is the number in $CL_LOG/health/ADDR (100 when the file is missing). State lives in
# files, so the pair driver's separate command shells share it.
litmus_start() {
  mkdir -p "$CL_LOG/health"
  # Not a job of this shell (killing it later must not print "Killed"): a subshell starts it.
  (
    setsid python3 "$CL_REPO/tests/cluster/litmus.py" "$1" 80 "$CL_LOG/health" </dev/null \
      >>"$CL_LOG/litmus.log" 2>&1 &
    echo $! >"$CL_LOG/health/$1.pid"
  )
}
litmus_set() { echo "$2" >"$CL_LOG/health/$1.tmp" && mv "$CL_LOG/health/$1.tmp" "$CL_LOG/health/$1"; }
# "Gone": the process ends, connections are refused.
litmus_kill() {
  local pid
  pid=$(cat "$CL_LOG/health/$1.pid" 2>/dev/null) || return 0
  kill -KILL "$pid" 2>/dev/null
  rm -f "$CL_LOG/health/$1.pid"
}
litmus_answers() { timeout 5 bash -c "exec 3<>/dev/tcp/$1/80" 2>/dev/null; }
litmus_stop_all() {
  local f
  for f in "$CL_LOG"/health/*.pid; do
    [[ -f $f ]] && kill -TERM "$(cat "$f")" 2>/dev/null
  done
}

# ---- the load balancer under test ------------------------------------------------------------
# The talk's cluster in documentation ranges: VIP 203.0.113.10 on the dummy NIC vip0, fwmark 7,
# wlc, ipip; the app nodes' health endpoints are local "real servers" 198.51.100.N on the dummy
# NIC rs0 (check address = real-server address), each answering like litmus_paper.
CL_FWMARK=7
CL_VIP=203.0.113.10
CL_SPEC=/etc/big_brother/webapp.toml
CL_GROUP=webapp_group
CL_PRIMITIVE=ipvs_webapp
declare -A CL_HEALTH=([198.51.100.1]=100 [198.51.100.2]=80 [198.51.100.3]=60)

# write_spec FILE ADDR...: the spec with one [[node]] per address. Short intervals so the tier
# sees health changes within seconds: checks every 1 s, a 2 s ramp, monitor every 5 s.
write_spec() {
  local file=$1 a
  shift
  mkdir -p "$(dirname "$file")"
  {
    cat <<EOS
# The talk's cluster, in documentation address ranges (written by tests/cluster/lib.sh).
name = "webapp"
description = "Braintree Webapp (cluster tier)"
fwmark = $CL_FWMARK
scheduler = "wlc"
forward = "ipip"
check_interval = "1s"
ramp_up_time = "2s"

[[vip]]
address = "$CL_VIP"
nic = "vip0"
cidr_netmask = 32

[ops.ipvs]
monitor_interval = "5s"

[ops.vip]
monitor_interval = "10s"
# IPaddr2 is a shell script of a few dozen forks; under software emulation on a loaded host its
# start took over the generated default's 30 s (the pair tier's first power cut, a CI run: the
# start timed out on the survivor, fail-count INFINITY, the VIP never came up). On hardware it
# takes well under a second, so the default stays; the tier gives it room.
start_timeout = "90s"
EOS
    for a in "$@"; do
      printf '\n[[node]]\naddress = "%s"\nport = 80\npath = "/webapp/status"\n' "$a"
    done
  } >"$file.tmp" && mv "$file.tmp" "$file"
}

# lb_setup: NICs, health endpoints, the agent (agents/install) and the spec on this node.
lb_setup() {
  local a
  { ip link add vip0 type dummy && ip link set vip0 up; } || fail "cannot add the dummy NIC vip0"
  { ip link add rs0 type dummy && ip link set rs0 up; } || fail "cannot add the dummy NIC rs0"
  for a in 198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.4; do
    ip addr add "$a/32" dev rs0 || fail "cannot add $a to rs0"
  done
  for a in "${!CL_HEALTH[@]}"; do
    litmus_set "$a" "${CL_HEALTH[$a]}"
    litmus_start "$a"
  done
  [[ -x ${BB_CLUSTER_BIN:-} ]] || fail "BB_CLUSTER_BIN (the big_brother binary under test) is not set or not executable: '${BB_CLUSTER_BIN:-}'"
  "$CL_REPO/agents/install" "$BB_CLUSTER_BIN" >"$CL_LOG/install.out" 2>&1 ||
    fail "agents/install failed: $(cat "$CL_LOG/install.out")"
  [[ -x $CL_AGENT ]] || fail "agents/install did not put the agent at $CL_AGENT"
  write_spec "$CL_SPEC" 198.51.100.1 198.51.100.2 198.51.100.3
  big_brother validate "$CL_SPEC" || fail "the tier's own spec does not validate"
  for a in "${!CL_HEALTH[@]}"; do
    wait_for 30 "health endpoint $a answers" litmus_answers "$a"
  done
}

# The weights the spec's health endpoints ask for, as ipvs_weights prints them.
expected_weights() {
  local a out=()
  for a in $(printf '%s\n' "$@" | sort); do out+=("$a=${CL_HEALTH[$a]}"); done
  echo "${out[*]}"
}
weights_are() {
  CL_LAST_WEIGHTS=$(ipvs_weights "$CL_FWMARK")
  [[ $CL_LAST_WEIGHTS == "$1" ]]
}

# The agent run by hand, as Pacemaker would for a monitor (prints nothing; returns its code).
agent_monitor() {
  OCF_ROOT=/usr/lib/ocf OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1 \
    OCF_RESOURCE_INSTANCE=$CL_PRIMITIVE OCF_RESOURCE_TYPE=ocf_big_brother \
    OCF_RESOURCE_PROVIDER=braintree OCF_RESKEY_cluster=webapp OCF_RESKEY_CRM_meta_interval=5000 \
    OCF_RESKEY_CRM_meta_timeout=30000 OCF_CHECK_LEVEL=${1:-0} \
    timeout 60 "$CL_AGENT" monitor >/dev/null 2>>"$CL_LOG/agent-monitor.err"
}
# crm_resource --force-check runs the configured monitor itself, outside the cluster's schedule.
force_check() { timeout 60 crm_resource --force-check -r "$CL_PRIMITIVE" >"$CL_LOG/force-check.out" 2>&1; }

supervisor_pid() {
  local p
  p=$(cat "$HA_RSCTMP/big_brother/webapp/lock" 2>/dev/null) || return 1
  p=${p//[^0-9]/}
  [[ -n $p ]] && kill -0 "$p" 2>/dev/null && echo "$p"
}

group_started() {
  local out
  out=$(timeout 20 crm_mon -1 2>/dev/null) || return 1
  [[ $out == *"$CL_PRIMITIVE	(ocf:braintree:ocf_big_brother):	 Started ${1:-$CL_NODE}"* &&
    $out == *"ip_$CL_VIP	(ocf:heartbeat:IPaddr2):	 Started ${1:-$CL_NODE}"* ]]
}
group_stopped() {
  local out
  out=$(timeout 20 crm_mon -1 --inactive 2>/dev/null) || return 1
  [[ $out == *"$CL_PRIMITIVE	(ocf:braintree:ocf_big_brother):	 Stopped"* &&
    $out == *"ip_$CL_VIP	(ocf:heartbeat:IPaddr2):	 Stopped"* ]]
}

# ---- the watcher: what the kernel shows, sampled every ~10 ms ------------------------------
# One line per change: "<µs> svc=<0|1> vip=<0|1> <hexaddr>:<weight>...", from /proc/net/ip_vs
# (the kernel's table ipvsadm reads) and /proc/net/fib_trie (the local addresses `ip addr`
# lists), with builtins only.
proc_sample() {
  local line in_svc=0 hex addr weight
  printf -v hex '%08X' "$CL_FWMARK"
  S_SVC=0 S_VIP=0 S_W=""
  while IFS= read -r line; do
    if [[ $line == "FWM  $hex "* ]]; then
      S_SVC=1 in_svc=1
    elif [[ $in_svc == 1 && $line == "  -> "* ]]; then
      read -r _ addr _ weight _ <<<"$line"
      S_W+=" ${addr%%:*}:$weight"
    else
      in_svc=0
    fi
  done </proc/net/ip_vs
  while IFS= read -r line; do
    [[ $line == *"|-- $CL_VIP" ]] && { S_VIP=1; break; }
  done </proc/net/fib_trie
}
watch_start() {
  CL_WATCH_FILE=$1
  : >"$CL_WATCH_FILE"
  (
    trap - EXIT
    prev=""
    while true; do
      proc_sample
      cur="svc=$S_SVC vip=$S_VIP$S_W"
      if [[ $cur != "$prev" ]]; then
        printf '%s %s\n' "${EPOCHREALTIME/./}" "$cur" >>"$CL_WATCH_FILE"
        prev=$cur
      fi
      read -r -t 0.01 -u "$CL_SLEEP_FD" _ 2>/dev/null
    done
  ) &
  CL_WATCH_PID=$!
}
watch_stop() {
  kill "$CL_WATCH_PID" 2>/dev/null
  wait "$CL_WATCH_PID" 2>/dev/null
  echo "---- watcher ($CL_WATCH_FILE): µs since start, service, VIP, destinations (hex:weight)"
  local first="" t rest
  while read -r t rest; do
    [[ -z $first ]] && first=$t
    printf '  +%6s s  %s\n' "$(secs $((t - first)))" "$rest"
  done <"$CL_WATCH_FILE"
}

# ---- scenarios -------------------------------------------------------------------------------
CL_RESULTS=()
CL_FAILED=0
# scenario NAME FUNCTION: runs FUNCTION in a subshell (its `fail` ends only the scenario, with
# diagnostics), records the outcome and how long it took, and goes on with the next one.
scenario() {
  local name=$1 fn=$2 t rc
  echo
  say "==== scenario: $name"
  t=$(now_us)
  (
    trap - EXIT
    "$fn"
  )
  rc=$?
  t=$(($(now_us) - t))
  if [[ $rc -eq 0 ]]; then
    CL_RESULTS+=("PASS  $name ($(secs "$t") s)")
  else
    CL_RESULTS+=("FAIL  $name ($(secs "$t") s)")
    CL_FAILED=$((CL_FAILED + 1))
  fi
  return $rc
}
summary() {
  echo
  say "==== summary ($CL_FAILED failed)"
  printf '  %s\n' "${CL_RESULTS[@]}"
  [[ $CL_FAILED -eq 0 ]]
}

# serving_full ADDR...: this node's IPVS serves the VIP with every listed node at the weight its
# health asks for — the VIP is local, the service exists and its destinations are exactly those.
# Builtins only (a failover timer polls it every 20 ms).
serving_full() {
  local a hex tok want=0 have
  proc_sample
  [[ $S_SVC == 1 && $S_VIP == 1 ]] || return 1
  for a in "$@"; do
    local o1 o2 o3 o4
    IFS=. read -r o1 o2 o3 o4 <<<"$a"
    printf -v hex '%02X%02X%02X%02X' "$o1" "$o2" "$o3" "$o4"
    tok="$hex:${CL_HEALTH[$a]:-unknown}"
    [[ "$S_W " == *" $tok "* ]] || return 1
    want=$((want + 1))
  done
  read -r -a have <<<"$S_W"
  [[ ${#have[@]} -eq $want ]]
}
# Same, as a wait on a 20 ms tick (for timing failovers); records when the service, the VIP and
# full weights were first seen, for takeover_breakdown.
wait_serving_full() {
  local limit=$1 end svc="" vip=""
  shift
  end=$(($(now_us) + limit * 1000000))
  until serving_full "$@"; do
    [[ -z $svc && $S_SVC == 1 ]] && svc=$(now_us)
    [[ -z $vip && $S_VIP == 1 ]] && vip=$(now_us)
    (($(now_us) < end)) || fail "this node's IPVS did not serve the VIP with full weights within ${limit}s"
    nap 0.02
  done
  local full
  full=$(now_us)
  echo "${svc:-$full} ${vip:-$full} $full" >"$CL_LOG/takeover_us"
}
# Nothing of the group on this node: no service, no VIP.
serving_nothing() {
  proc_sample
  [[ $S_SVC == 0 && $S_VIP == 0 ]]
}

# pcmk_event_us TEXT: µs timestamp of the last pacemaker.log line containing TEXT (this node's
# clock), or nothing.
pcmk_event_us() {
  local line
  line=$(grep -a -F "$1" "$PCMK_logfile" | tail -n 1)
  [[ -n $line ]] || return 1
  date -d "${line:0:19}" +%s%6N
}
# takeover_breakdown: after wait_serving_full, where the time went on this node: when this node's
# controller asked for the big_brother start (its log), when the start returned, when the
# service, the VIP and full weights were seen — all relative to that request.
takeover_breakdown() {
  local svc vip full init ipvs
  read -r svc vip full <"$CL_LOG/takeover_us" || return 0
  # Logged by this node's controller whichever node is the DC.
  init=$(pcmk_event_us "Requesting local execution of start operation for $CL_PRIMITIVE on $CL_NODE") || return 0
  ipvs=$(pcmk_event_us "Result of start operation for $CL_PRIMITIVE on $CL_NODE: ok") || return 0
  say "BREAKDOWN after the controller requested the big_brother start: service seen +$(secs $((svc - init))) s, start returned +$(secs $((ipvs - init))) s, VIP seen +$(secs $((vip - init))) s, full weights +$(secs $((full - init))) s"
}

# ---- the command loop of the multi-VM parts ----------------------------------------------------
# command_loop: runs the commands the host drops into $BB_VM_OUT/cmd/: N.sh is sourced in a
# subshell (lib.sh's functions available), its output goes to N.out and its status to N.rc;
# returns when the host creates cmd/quit.
command_loop() {
  local cmd=$BB_VM_OUT/cmd n=1
  mkdir -p "$cmd"
  while true; do
    if [[ -f $cmd/$n.sh ]]; then
      : >"$cmd/$n.started"
      (
        trap - EXIT
        # shellcheck disable=SC1090 # the host's command
        . "$cmd/$n.sh"
      ) >"$cmd/$n.out" 2>&1
      echo $? >"$cmd/$n.rc.tmp" && mv "$cmd/$n.rc.tmp" "$cmd/$n.rc"
      n=$((n + 1))
    elif [[ -f $cmd/quit ]]; then
      break
    else
      nap 0.05
    fi
  done
}

# ---- the outside topology (tests/cluster/failover) ---------------------------------------------
# The client and the real servers live in a third VM (tests/cluster/outside) on the same private
# segment as the directors' eth0. The service is VIP:7 over TCP (an echo server on each real
# server: the measurement needs traffic, and a VIP:port service needs no firewall mark rule), the
# VIP sits on eth0 (IPaddr2's gratuitous ARPs move it), ipip to 198.51.100.1-3, reached on-link.
CL_PORT=7
CL_RS=(198.51.100.1 198.51.100.2 198.51.100.3)
CL_CLIENT=192.0.2.100 # the client namespace's address (tests/cluster/outside)

write_spec_outside() {
  local file=$1 a
  mkdir -p "$(dirname "$file")"
  {
    # fall = 3: under software emulation on a loaded host a director's VM stalls for seconds
    # (seen: 3 s, with a Corosync token loss at the same moment); with fall = 1 every check in
    # flight times out together, all three weights drop to 0 and new connections are refused —
    # a stall of the VM, not a failover. The single tier tests fall = 1 (the talk's).
    cat <<EOS
# The talk's cluster as a VIP:port service, real servers outside the directors (tests/cluster/lib.sh).
name = "webapp"
description = "Braintree Webapp (cluster tier, failover measurement)"
protocol = "tcp"
address = "$CL_VIP"
port = $CL_PORT
scheduler = "wlc"
forward = "ipip"
check_interval = "1s"
fall = 3
ramp_up_time = "2s"

[[vip]]
address = "$CL_VIP"
nic = "eth0"
cidr_netmask = 32

[ops.ipvs]
monitor_interval = "5s"

[ops.vip]
monitor_interval = "10s"
# IPaddr2 is a shell script of a few dozen forks; under software emulation on a loaded host its
# start took over the generated default's 30 s (the pair tier's first power cut, a CI run: the
# start timed out on the survivor, fail-count INFINITY, the VIP never came up). On hardware it
# takes well under a second, so the default stays; the tier gives it room.
start_timeout = "90s"
EOS
    for a in "${CL_RS[@]}"; do
      printf '\n[[node]]\naddress = "%s"\nport = 80\npath = "/webapp/status"\n' "$a"
    done
  } >"$file.tmp" && mv "$file.tmp" "$file"
}

# lb_setup_outside: a director whose real servers are in the outside VM: the route to them, the
# agent and the spec. Their health endpoints must answer before the stack starts.
lb_setup_outside() {
  local a
  ip route add 198.51.100.0/24 dev eth0 || fail "cannot route 198.51.100.0/24 on-link"
  [[ -x ${BB_CLUSTER_BIN:-} ]] || fail "BB_CLUSTER_BIN (the big_brother binary under test) is not set or not executable: '${BB_CLUSTER_BIN:-}'"
  "$CL_REPO/agents/install" "$BB_CLUSTER_BIN" >"$CL_LOG/install.out" 2>&1 ||
    fail "agents/install failed: $(cat "$CL_LOG/install.out")"
  write_spec_outside "$CL_SPEC"
  big_brother validate "$CL_SPEC" || fail "the tier's own spec does not validate"
  for a in "${CL_RS[@]}"; do
    wait_for 240 "health endpoint $a answers (outside VM)" litmus_answers "$a"
  done
}

# The CIB of each scenario, built from `big_brother crm generate --format cib` (sed keeps one
# section: cibadmin replaces a section at a time, leaving crm_config and rsc_defaults alone).
cib_section() { sed -n "/<$1>/,/<\/$1>/p" "$2"; }
# load_scenario floor|floor+sync|cold|cold+sync|warm|warm+sync: replaces the resources and
# constraints. `cold` — the talk's group alone — is loaded the operator's way, with `big_brother
# crm apply` on the directors' own spec (the others need the sync clone's constraints or a
# changed spec, which crm apply does not manage: README "Connection sync"); it must create the
# group in one transaction, and `crm check` must then find the CIB in sync.
load_scenario() {
  local f=$CL_LOG/scenario.xml sync=()
  if [[ $1 == cold ]]; then
    clear_scenario
    big_brother crm apply "$CL_SPEC" >"$CL_LOG/crm-apply.out" 2>&1 ||
      fail "big_brother crm apply failed: $(cat "$CL_LOG/crm-apply.out")"
    cat "$CL_LOG/crm-apply.out"
    grep -q "^$CL_GROUP: created" "$CL_LOG/crm-apply.out" ||
      fail "big_brother crm apply did not say it created $CL_GROUP"
    big_brother crm check "$CL_SPEC" || fail "big_brother crm check: the CIB differs right after crm apply"
    return 0
  fi
  case $1 in
    *+sync) sync=(--sync-interface eth0 --sync-id 14) ;;
  esac
  local spec=$CL_SPEC
  case $1 in
    warm*)
      # The warm shape (spec key standby = "warm"): the big_brother primitive a clone, the VIPs
      # a group colocated with and ordered after it. Generated from a copy: the directors' own
      # spec stays as it is (the agent reads the same cluster either way).
      spec=$CL_LOG/warm/webapp.toml
      mkdir -p "$CL_LOG/warm"
      sed 's/^forward = "ipip"$/&\nstandby = "warm"/' "$CL_SPEC" >"$spec"
      ;;
  esac
  big_brother crm generate --format cib "${sync[@]}" "$spec" >"$f" || fail "crm generate failed"
  if [[ $1 == floor* ]]; then
    # The floor: the same group without the big_brother primitive, the VIP alone.
    sed -i '/type="ocf_big_brother"/,/<\/primitive>/d' "$f"
  fi
  local res con
  res=$(cib_section resources "$f")
  con=$(cib_section constraints "$f")
  [[ -n $con ]] || con="<constraints/>"
  timeout 60 cibadmin --replace --scope constraints --xml-text "<constraints/>" || fail "cibadmin: clearing constraints"
  timeout 60 cibadmin --replace --scope resources --xml-text "$res" || fail "cibadmin: resources of $1"
  timeout 60 cibadmin --replace --scope constraints --xml-text "$con" || fail "cibadmin: constraints of $1"
}
# clear_scenario: no resources, no constraints (Pacemaker stops what ran).
clear_scenario() {
  timeout 60 cibadmin --replace --scope constraints --xml-text "<constraints/>" || fail "cibadmin: clearing constraints"
  timeout 60 cibadmin --replace --scope resources --xml-text "<resources/>" || fail "cibadmin: clearing resources"
}
# runs_nothing: no resource active on this node (crm_mon's whole report read, see nodes_online),
# no VIP, no IPVS service, no sync daemon.
runs_nothing() {
  local out line
  out=$(timeout 20 crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  [[ $out != *'active="true"'* ]] || return 1
  addr_is_local "$CL_VIP" && return 1
  while IFS= read -r line; do
    [[ $line == TCP* || $line == UDP* || $line == FWM* ]] && return 1
  done </proc/net/ip_vs
  [[ -z $(timeout 20 ipvsadm -L --daemon 2>/dev/null) ]]
}
# The floor's IPVS: programmed by hand on both directors before the VIP-only group starts, so
# what the floor measures is Pacemaker moving the VIP and nothing else.
floor_ipvs() {
  local a w=(100 80 60) i=0
  ipvsadm -A -t "$CL_VIP:$CL_PORT" -s wlc || return 1
  for a in "${CL_RS[@]}"; do
    ipvsadm -a -t "$CL_VIP:$CL_PORT" -r "$a:$CL_PORT" -i -w "${w[$i]}" || return 1
    i=$((i + 1))
  done
}
# vip_weights: this director's VIP:port service as "ADDR=WEIGHT ..." sorted (empty: no service).
vip_weights() {
  timeout 20 ipvsadm -Ln -t "$CL_VIP:$CL_PORT" 2>/dev/null |
    awk '$1 == "->" && $2 ~ /^[0-9]/ { sub(/:[0-9]+$/, "", $2); print $2 "=" $4 }' | sort | tr '\n' ' ' |
    sed 's/ $//'
}
CL_FULL_OUTSIDE="198.51.100.1=100 198.51.100.2=80 198.51.100.3=60"
# serving_vip [WEIGHTS]: the VIP is local and the service has the three real servers at the
# weights their health asks for (the floor's hand-made table has the same), or at WEIGHTS (as
# vip_weights prints them: the warm scenario's drained node at 0).
serving_vip() {
  addr_is_local "$CL_VIP" || return 1
  [[ $(vip_weights) == "${1:-$CL_FULL_OUTSIDE}" ]]
}
# A passive director: no VIP; warm (and the floor) with the service at full weights (or at
# WEIGHTS, as for serving_vip), cold with no service at all.
passive_warm() {
  ! addr_is_local "$CL_VIP" && [[ $(vip_weights) == "${1:-$CL_FULL_OUTSIDE}" ]]
}
# weights_settle LIMIT WEIGHTS: waits at most LIMIT seconds until this director's service has
# WEIGHTS (the drain check of tests/cluster/failover: both directors at once). On a timeout it
# prints what this director had — its kernel table, big_brother's view and its local drain file —
# and returns 1, without failing the run here: the host fails it with both directors' views.
weights_settle() {
  local limit=$1 want=$2 start end had
  start=$(now_us)
  end=$((start + limit * 1000000))
  until [[ $(vip_weights) == "$want" ]]; do
    if (($(now_us) >= end)); then
      had=$(vip_weights)
      echo "$CL_NODE: NOT at '$want' within ${limit}s; ipvsadm -Ln has '${had:-no service}'"
      echo "---- big_brother status webapp"
      timeout 20 big_brother status webapp 2>&1 | head -n 20
      echo "---- /var/lib/big_brother/webapp/drain (this director's local drains)"
      cat /var/lib/big_brother/webapp/drain 2>&1
      return 1
    fi
    nap 0.2
  done
  echo "$CL_NODE: $want after $(secs $(($(now_us) - start))) s"
}
# drained_in_status NODE HOST REASON: `big_brother status` on this director shows NODE drained
# cluster-wide by someone on HOST (by = user@HOST) with REASON, and this director's own drain
# file does not hold it: the drain came from the shared CIB. Prints the status line it found.
drained_in_status() {
  local line
  # The node's id in the table: its address, or address:port (the real server's port here).
  line=$(timeout 20 big_brother status webapp 2>&1 | awk -v n="$1" '$1 == n || index($1, n ":") == 1') &&
    [[ -n $line ]] || {
    echo "$CL_NODE: no line for $1 in big_brother status:"
    timeout 20 big_brother status webapp 2>&1 | head -n 20
    return 1
  }
  echo "$CL_NODE: $line"
  [[ $line == *"drained cluster-wide by "*"@$2 at "*": $3"* ]] ||
    { echo "$CL_NODE: $1 is not shown drained cluster-wide by …@$2 with reason '$3'"; return 1; }
  ! grep -qsF "$1" /var/lib/big_brother/webapp/drain ||
    { echo "$CL_NODE: $1 is in this director's local drain file: not proof of the CIB"; return 1; }
}
# rs_conns ADDR: how many connections this director's IPVS has scheduled to real server ADDR
# since its destination was added (`ipvsadm -Ln --stats`, Conns).
rs_conns() {
  timeout 20 ipvsadm -Ln --stats -t "$CL_VIP:$CL_PORT" 2>/dev/null |
    awk -v a="$1:$CL_PORT" '$1 == "->" && $2 == a { print $3 }'
}
passive_cold() {
  ! addr_is_local "$CL_VIP" && ! timeout 20 ipvsadm -Ln -t "$CL_VIP:$CL_PORT" >/dev/null 2>&1
}
# synced_at_least N: this node's IPVS holds N or more ESTABLISHED entries for VIP:port (on a
# passive director only the backup sync daemon creates them). A coarse count (see synced_ports).
synced_at_least() {
  local vip port
  printf -v vip '%02X%02X%02X%02X' ${CL_VIP//./ }
  printf -v port '%04X' "$CL_PORT"
  [[ $(awk -v v="$vip" -v p="$port" '$4 == v && $5 == p && $8 == "ESTABLISHED"' /proc/net/ip_vs_conn | wc -l) -ge $1 ]]
}
# synced_ports N PORT...: N or more of the client's connections (client ports in hex, as
# flows.py lists them) are ESTABLISHED entries for VIP:port here. Counting entries alone is not
# enough: the probes' short connections leave entries too, and one may still be ESTABLISHED.
synced_ports() {
  local n=$1 vip port client
  shift
  printf -v vip '%02X%02X%02X%02X' ${CL_VIP//./ }
  printf -v client '%02X%02X%02X%02X' ${CL_CLIENT//./ }
  printf -v port '%04X' "$CL_PORT"
  [[ $(awk -v c="$client" -v v="$vip" -v p="$port" -v want="$*" '
    BEGIN { split(want, w, " "); for (i in w) ours[w[i]] = 1 }
    $2 == c && ($3 in ours) && $4 == v && $5 == p && $8 == "ESTABLISHED" { n++ }
    END { print n + 0 }' /proc/net/ip_vs_conn) -ge $n ]]
}
# conn_report: what this director's IPVS holds for the clients (after a failover).
conn_report() {
  echo "---- ipvsadm -Ln --stats"
  timeout 20 ipvsadm -Ln --stats 2>&1
  echo "---- ipvsadm -L --daemon"
  timeout 20 ipvsadm -L --daemon 2>&1
  echo "---- ipvsadm -Lnc ($(($(wc -l </proc/net/ip_vs_conn) - 1)) entries), first 5"
  timeout 20 ipvsadm -Lnc 2>&1 | head -n 7
  echo "---- dmesg, last 5"
  dmesg 2>&1 | tail -n 5
}
