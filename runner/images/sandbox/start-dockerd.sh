#!/bin/sh
# The sandbox's main process (under Docker's init, which reaps orphans): prepares cgroups, then becomes dockerd.
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

# Process caps, so a fork bomb dies alone: nested containers ("learner") and learners'
# shells ("shells", see layerlab-learner) each get a share of the sandbox's limit, and
# what is left stays for dockerd, containerd and their shims, so `docker ps` and
# `docker rm -f` still answer while a bomb runs. $1 = the sandbox's limit, $2 and $3 =
# the files for the containers' and the shells' caps.
cap_learner_pids() {
  limit=$1
  [ "$limit" != max ] || return 0
  reserve=$((limit / 8)); [ "$reserve" -ge 128 ] || reserve=128
  shells=$((limit / 8)); [ "$shells" -ge 32 ] || shells=32
  containers=$((limit - reserve - shells))
  [ "$containers" -ge 32 ] || return 0
  echo "$containers" >"$2"
  echo "$shells" >"$3"
}

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  # cgroup v2: processes may not sit in a cgroup whose controllers are delegated, so move
  # ourselves to a leaf first (as the official docker:dind entrypoint does).
  mkdir -p /sys/fs/cgroup/init /sys/fs/cgroup/learner /sys/fs/cgroup/shells
  xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs || :
  sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control
  cap_learner_memory "$(cat /sys/fs/cgroup/memory.max)" /sys/fs/cgroup/learner/memory.max
  cap_learner_memory "$(cat /sys/fs/cgroup/memory.max)" /sys/fs/cgroup/shells/memory.max
  cap_learner_pids "$(cat /sys/fs/cgroup/pids.max)" /sys/fs/cgroup/learner/pids.max /sys/fs/cgroup/shells/pids.max
else
  # cgroup v1: without --privileged the engine mounts each hierarchy read-only; a plain
  # "remount,rw" fails with "mount point is busy", a bind remount works.
  for hierarchy in /sys/fs/cgroup/*/; do mount -o remount,rw,bind "$hierarchy"; done
  mkdir -p /sys/fs/cgroup/memory/learner /sys/fs/cgroup/memory/shells /sys/fs/cgroup/pids/learner /sys/fs/cgroup/pids/shells
  # Each terminal's processes are frozen there while they are ended (layerlab-terminals).
  [ ! -d /sys/fs/cgroup/freezer ] || mkdir -p /sys/fs/cgroup/freezer/shells
  cap_learner_memory "$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" /sys/fs/cgroup/memory/learner/memory.limit_in_bytes
  cap_learner_memory "$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" /sys/fs/cgroup/memory/shells/memory.limit_in_bytes
  cap_learner_pids "$(cat /sys/fs/cgroup/pids/pids.max)" /sys/fs/cgroup/pids/learner/pids.max /sys/fs/cgroup/pids/shells/pids.max
fi

# The sandbox's own limits (set by the runner on the learner's engine) and the learner cap
# are read-only from here on: root in a learner's shell may write cgroup files, and would
# otherwise lift the limits by writing a bigger number. Remounting needs CAP_SYS_ADMIN,
# which learners' shells do not have.
freeze() { for file in "$@"; do [ -f "$file" ] && mount --bind -o ro "$file" "$file"; done; return 0; }
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  freeze /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max \
    /sys/fs/cgroup/learner/memory.max /sys/fs/cgroup/learner/pids.max /sys/fs/cgroup/shells/memory.max /sys/fs/cgroup/shells/pids.max
else
  freeze /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes \
    /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us \
    /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/devices/devices.allow \
    /sys/fs/cgroup/memory/learner/memory.limit_in_bytes /sys/fs/cgroup/memory/shells/memory.limit_in_bytes \
    /sys/fs/cgroup/pids/learner/pids.max /sys/fs/cgroup/pids/shells/pids.max
fi

# An unclean stop (an OOM kill, a power cut) leaves pid files naming PID 1, which is us
# again, and dockerd would refuse to start.
rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid

# Mounts made from here on (the overlay folders of containers) propagate to the mount
# namespaces learners' shells run in (layerlab-learner), where lesson 8 looks at them.
mount --make-rshared /

# Where the engine's runtime (layerlab-runc) mounts the bind sources it checked, one folder
# per container, for runc to mount from: a private tmpfs, so those mounts stay out of
# learners' shells, and nothing there is the learner's to swap.
mkdir -p /run/layerlab-binds
mount -t tmpfs -o mode=700,size=1m,nosuid,nodev,noexec layerlab-binds /run/layerlab-binds
mount --make-private /run/layerlab-binds

# The engine's authorization plugin (layerlab-authz) decides on every API request; the
# engine refuses everything while it cannot reach it. Restarted if it dies. It is named
# in /etc/layerlab/daemon.json, not with --authorization-plugin: on SIGHUP dockerd reloads
# its settings from that file alone and would drop a plugin named on the command line
# (measured: after `kill -HUP 1` --privileged was no longer refused). /run/containerd
# exists before containerd's shims use it, so layerlab-learner can hide it from shells.
mkdir -p /run/docker/plugins /run/containerd
chmod 700 /run/docker /run/docker/plugins
authz_socket=/run/docker/plugins/layerlab-authz.sock
rm -f "$authz_socket"
(
  while :; do
    /usr/local/sbin/layerlab-authz --socket "$authz_socket" || :
    sleep 0.5
  done
) &
while [ ! -S "$authz_socket" ]; do sleep 0.05; done

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
  --config-file /etc/layerlab/daemon.json \
  --label "layerlab.engine-id=${LAYERLAB_ENGINE_ID:-unset}"
