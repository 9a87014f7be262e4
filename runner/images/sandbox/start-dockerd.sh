#!/bin/sh
# PID 1 of the sandbox: prepares cgroups, then becomes dockerd.
set -eu

# Learner containers and build steps run under the "learner" cgroup, capped below the
# sandbox's own memory limit, so a container that runs out of memory is killed alone
# instead of taking the sandbox's dockerd with it.
cap_learner_memory() { # $1 = sandbox limit in bytes, $2 = file to write the cap to
  limit=$1
  # No limit (or an absurd one) means nothing to stay under.
  [ "$limit" != max ] && [ "$limit" -lt 1099511627776 ] || return 0
  reserve=$((512 * 1024 * 1024))
  [ "$reserve" -le $((limit / 4)) ] || reserve=$((limit / 4))
  echo $((limit - reserve)) >"$2"
}

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  # cgroup v2: processes may not sit in a cgroup whose controllers are delegated, so move
  # ourselves to a leaf first (as the official docker:dind entrypoint does).
  mkdir -p /sys/fs/cgroup/init /sys/fs/cgroup/learner
  xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs || :
  sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control
  cap_learner_memory "$(cat /sys/fs/cgroup/memory.max)" /sys/fs/cgroup/learner/memory.max
else
  # cgroup v1: without --privileged the engine mounts each hierarchy read-only; a plain
  # "remount,rw" fails with "mount point is busy", a bind remount works.
  for hierarchy in /sys/fs/cgroup/*/; do mount -o remount,rw,bind "$hierarchy"; done
  mkdir -p /sys/fs/cgroup/memory/learner
  cap_learner_memory "$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" /sys/fs/cgroup/memory/learner/memory.limit_in_bytes
fi

# The sandbox's own limits (set by the runner on the learner's engine) and the learner cap
# are read-only from here on: root in a learner's shell may write cgroup files, and would
# otherwise lift the limits by writing a bigger number. Remounting needs CAP_SYS_ADMIN,
# which learners' shells do not have.
freeze() { for file in "$@"; do [ -f "$file" ] && mount --bind -o ro "$file" "$file"; done; return 0; }
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  freeze /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max \
    /sys/fs/cgroup/learner/memory.max /sys/fs/cgroup/learner/pids.max
else
  freeze /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes \
    /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us \
    /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/devices/devices.allow \
    /sys/fs/cgroup/memory/learner/memory.limit_in_bytes
fi

# An unclean stop (an OOM kill, a power cut) leaves pid files naming PID 1, which is us
# again, and dockerd would refuse to start.
rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid

# /run/layerlab is the folder the runner reaches this engine through, on the learner's
# machine. Once the engine's socket is there, the folder turns read-only, so nothing in the
# sandbox can swap the socket for a link to another engine (the runner also checks).
# Connecting to a socket on a read-only mount still works.
mkdir -p /run/layerlab
rm -f /run/layerlab/docker.sock   # the last run's, so the wait below sees the new one
(
  while [ ! -S /run/layerlab/docker.sock ]; do sleep 0.1; done
  mount -o remount,ro,bind /run/layerlab
) &
exec dockerd \
  --cgroup-parent=/learner \
  --host unix:///var/run/docker.sock \
  --host unix:///run/layerlab/docker.sock \
  --group "${LAYERLAB_SOCKET_GID:-0}" \
  --label "layerlab.engine-id=${LAYERLAB_ENGINE_ID:-unset}"
