#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for trying `python -m prunelib sweep` through SLURM (and for the
# test suite). Needs root and Debian's slurm-wlm + munge (apt-get install slurm-wlm munge).
#
#   tools/local-slurm.sh start DIR   # munged, slurmctld, slurmd with a minimal slurm.conf in DIR; prints the export
#   export SLURM_CONF=DIR/slurm.conf # then sbatch, squeue and the sweep use this cluster
#   tools/local-slurm.sh stop DIR    # waits for the queue to drain (60 s at most), then stops the daemons
set -euo pipefail
cmd=${1:-}; dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2; exit 2
fi
sbin() { command -v "$1" 2>/dev/null || echo "/usr/sbin/$1"; }
# two distinct free ports below Linux's ephemeral range (32768-60999), so that no outgoing connection of another
# process takes one between this check and the daemons' start (an ephemeral port did once: "Address already in use")
free_ports() { python3 -c '
import random, socket
found = []
while len(found) < 2:
    port = random.randint(20000, 30000)
    with socket.socket() as s:
        try:
            s.bind(("", port))
        except OSError:
            continue
    if port not in found:
        found.append(port)
print(*found)'; }

case "$cmd" in
start)
  for b in munged slurmctld slurmd; do
    [ -x "$(sbin $b)" ] || { echo "$0: $b not found: apt-get install slurm-wlm munge" >&2; exit 3; }
  done
  [ "$(id -u)" = 0 ] || { echo "$0: slurmd needs root" >&2; exit 3; }
  mkdir -p "$dir"/{state,spool,munge}
  dir=$(cd "$dir" && pwd)
  chmod 700 "$dir/munge"
  head -c 1024 /dev/urandom > "$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  host=$(hostname -s)
  read -r ctld_port slurmd_port <<< "$(free_ports)"
  cat > "$dir/slurm.conf" <<EOF
ClusterName=prunelib-local
SlurmctldHost=$host
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  "$(sbin munged)" --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" --force
  export SLURM_CONF="$dir/slurm.conf"
  "$(sbin slurmctld)" -f "$SLURM_CONF"
  "$(sbin slurmd)" -f "$SLURM_CONF"
  for _ in $(seq 60); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
    sleep 0.5
  done
  echo "$0: the node did not come up; see $dir/slurmctld.log and $dir/slurmd.log" >&2; exit 1
  ;;
stop)
  dir=$(cd "$dir" && pwd)
  export SLURM_CONF="$dir/slurm.conf"
  for _ in $(seq 120); do  # let the jobs' steps end before their daemons go, or they linger
    [ -z "$(squeue -h 2>/dev/null)" ] && break
    sleep 0.5
  done
  [ -z "$(squeue -h 2>/dev/null)" ] || { scancel --full --user "$(id -un)" 2>/dev/null || true; sleep 2; }
  for pid in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  sleep 1
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2; exit 2
  ;;
esac
