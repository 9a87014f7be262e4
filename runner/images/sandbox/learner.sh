#!/bin/sh
# layerlab-learner COMMAND...: runs COMMAND the way a learner's shell runs. `docker exec`
# starts it with the sandbox's full rights (the engine's); before COMMAND starts it
# 1. joins the "shells" cgroup, whose process and memory caps sit below the sandbox's,
#    so a fork bomb at the prompt cannot starve the engine (start-dockerd.sh sets them);
#    a course terminal gets a cgroup of its own in there (see layerlab-terminals);
# 2. enters a mount namespace of its own, a follower of the engine's (so containers'
#    overlay mounts under /var/lib/docker still show up, for lesson 8), in which
#    - everything but the learner's folders (/root, /tmp, /var/tmp) is read-only: the
#      engine's programs, its configuration, /etc/ld.so.preload, its data in
#      /var/lib/docker and the cgroup files cannot be changed from a prompt;
#    - /run/docker and /run/containerd are covered by empty read-only folders: they hold
#      the sockets of containerd and its shims, which would run any container asked for
#      without the engine's authorization plugin (ctr, runc through a shim);
# 3. drops SYS_ADMIN, NET_ADMIN, MKNOD and SYS_PTRACE from its bounding set (host-config.ts says why)
#    and empties its inheritable and ambient sets,
#    so none of the above can be undone.
set -eu

if [ "${1:-}" != --in-namespace ]; then
  # A course terminal's shell (the runner names its session and itself in the environment)
  # gets a cgroup of its own under shells/, by which layerlab-terminals ends everything it
  # started; any other command joins shells/ itself.
  place=shells
  runner=${LAYERLAB_RUNNER:-} session=${LAYERLAB_TERMINAL:-}
  case "$runner" in '' | *[!0-9a-f.]*) runner="" ;; esac
  case "$session" in '' | *[!A-Za-z0-9_-]*) session="" ;; esac
  [ -z "$runner" ] || [ -z "$session" ] || place="shells/$runner/$session"
  join() { # $1 = a hierarchy's root
    [ -d "$1/shells" ] || return 0
    mkdir -p "$1/$place"
    echo $$ >"$1/$place/cgroup.procs"
  }
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    join /sys/fs/cgroup
  else
    join /sys/fs/cgroup/pids
    join /sys/fs/cgroup/freezer
    # The memory cap is for all shells together: no folder per terminal there.
    [ ! -d /sys/fs/cgroup/memory/shells ] || echo $$ >/sys/fs/cgroup/memory/shells/cgroup.procs
  fi
  # The tags have done their work; the learner's programs do not inherit them.
  exec env -u LAYERLAB_RUNNER -u LAYERLAB_TERMINAL unshare --mount --propagation slave -- "$0" --in-namespace "$@"
fi
shift

# Every mount as it is now; the learner's folders get mounts of their own first, so they
# stay writable when the file system around them turns read-only.
mounts=$(findmnt -rn -o TARGET)
for dir in /root /tmp /var/tmp; do mount --bind "$dir" "$dir"; done
mount -o remount,bind,ro /
mount -o remount,bind,ro /var/lib/docker
for target in $mounts; do
  case "$target" in
    /|/root|/root/*|/tmp|/tmp/*|/var/tmp|/var/tmp/*|/dev|/dev/*|/proc|/proc/*|/var/lib/docker) ;;
    # Best effort: what is not remounted here is out of reach or read-only already.
    *) mount -o remount,bind,ro "$target" 2>/dev/null || : ;;
  esac
done
for hidden in /run/docker /run/containerd; do
  [ ! -d "$hidden" ] || mount -t tmpfs -o ro,nosuid,nodev,noexec,size=4k,mode=755 layerlab-hidden "$hidden"
done

# Inheritable and ambient sets emptied too: an older runc gave exec'd processes full
# inheritable sets, through which root's execve would take the dropped rights back.
exec setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-sys_admin,-net_admin,-mknod,-sys_ptrace -- "$@"
