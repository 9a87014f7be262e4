#!/bin/sh
# layerlab-terminals: the course terminals' processes, found by cgroup. layerlab-learner
# puts every terminal's shell in a cgroup of its own, shells/<runner tag>/<session id>,
# before the learner can type anything, and a learner's shell cannot leave it (the cgroup
# files are read-only in its mount namespace). Everything the shell starts stays there,
# whatever its environment (`env -i`, `env -u`), its session (setsid, nohup, disown) or its
# parent, so a terminal's processes can always be ended together.
#
#   layerlab-terminals runners                 the runner tags that have terminals here, one a line
#   layerlab-terminals pids RUNNER [SESSION]   the processes of a runner's terminals (or one's)
#   layerlab-terminals end RUNNER [SESSION]    ends them: SIGHUP (what a closed terminal sends),
#                                              a second to go, then SIGKILL; removes the cgroups;
#                                              prints how many processes were ended
# Run by the sandbox's root (the runner), never from a learner's shell.
set -eu

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  # cgroup v2: one hierarchy.
  roots=/sys/fs/cgroup/shells
else
  # cgroup v1: the pids hierarchy lists the processes; freezer holds them still while they
  # are killed (memory keeps all shells in shells/ itself: its cap is for all of them).
  roots=""
  for hierarchy in pids freezer; do
    [ ! -d "/sys/fs/cgroup/$hierarchy/shells" ] || roots="$roots /sys/fs/cgroup/$hierarchy/shells"
  done
fi
first_root() { for root in $roots; do echo "$root"; return 0; done; }
list_root=$(first_root)

valid_runner() { case "$1" in '' | *[!0-9a-f.]*) return 1 ;; esac; }
valid_session() { case "$1" in '' | *[!A-Za-z0-9_-]*) return 1 ;; esac; }

# The session folders of RUNNER (or only SESSION's), under the listing hierarchy.
session_dirs() {
  [ -n "$list_root" ] && [ -d "$list_root/$1" ] || return 0
  if [ -n "${2:-}" ]; then
    [ ! -d "$list_root/$1/$2" ] || echo "$list_root/$1/$2"
  else
    for dir in "$list_root/$1"/*/; do [ ! -d "$dir" ] || echo "${dir%/}"; done
  fi
}

pids_in() { for dir in $(session_dirs "$@"); do cat "$dir/cgroup.procs" 2>/dev/null || :; done; }

# A wrapper that has not joined its cgroup yet (the first moments of a terminal) is known by
# the session id the runner gave it in its environment; it joins before running anything else.
unjoined_pids() {
  [ -n "${2:-}" ] || return 0
  grep -lxzs "LAYERLAB_TERMINAL=$2" /proc/[0-9]*/environ | cut -d/ -f3 || :
}

# Holds a session's processes still (so none can fork past the kill), kills them, lets them go.
kill_all() {
  for dir in $(session_dirs "$@"); do
    rel=${dir#"$list_root"/}
    if [ -f "$dir/cgroup.kill" ]; then
      echo 1 >"$dir/cgroup.kill" 2>/dev/null || :
    elif [ -f "$dir/cgroup.freeze" ]; then
      echo 1 >"$dir/cgroup.freeze"
      kill -KILL $(cat "$dir/cgroup.procs") 2>/dev/null || :
      echo 0 >"$dir/cgroup.freeze"
    elif [ -f "/sys/fs/cgroup/freezer/shells/$rel/freezer.state" ]; then
      state=/sys/fs/cgroup/freezer/shells/$rel/freezer.state
      echo FROZEN >"$state"
      for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(cat "$state")" = FROZEN ] && break; sleep 0.05; done
      kill -KILL $(cat "$dir/cgroup.procs") 2>/dev/null || :
      echo THAWED >"$state"
    else
      for i in 1 2 3 4 5 6 7 8 9 10; do kill -KILL $(cat "$dir/cgroup.procs") 2>/dev/null || break; done
    fi
  done
}

remove_cgroups() {
  for root in $roots; do
    [ -d "$root/$1" ] || continue
    if [ -n "${2:-}" ]; then rmdir "$root/$1/$2" 2>/dev/null || :; else
      for dir in "$root/$1"/*/; do [ ! -d "$dir" ] || rmdir "$dir" 2>/dev/null || :; done
      rmdir "$root/$1" 2>/dev/null || :
    fi
  done
}

end() {
  seen=$( { pids_in "$@"; unjoined_pids "$@"; } | sort -un | tr '\n' ' ')
  alive=""
  if [ -n "$seen" ]; then
    kill -HUP $seen 2>/dev/null || :
    for i in 1 2 3 4 5 6 7 8 9 10; do
      alive=$( { pids_in "$@"; for p in $(unjoined_pids "$@"); do echo "$p"; done; } | head -n1)
      [ -n "$alive" ] || break
      sleep 0.1
    done
    if [ -n "$alive" ]; then
      # What has started since is ended too, and counted.
      seen=$( { echo "$seen" | tr ' ' '\n'; pids_in "$@"; unjoined_pids "$@"; } | grep . | sort -un | tr '\n' ' ')
      kill -KILL $(unjoined_pids "$@") 2>/dev/null || :
      kill_all "$@"
      for i in $(seq 1 30); do [ -z "$(pids_in "$@")" ] && break; sleep 0.1; done
    fi
  fi
  # Ended: every process seen that is no longer in the session's cgroups nor waiting to join.
  left=" $(pids_in "$@" | tr '\n' ' ') $(unjoined_pids "$@" | tr '\n' ' ') "
  count=0
  for p in $seen; do case "$left" in *" $p "*) ;; *) count=$((count + 1)) ;; esac; done
  remove_cgroups "$@"
  echo "$count"
}

command=${1:-}
[ $# -eq 0 ] || shift
case "$command" in
  runners)
    [ -z "$list_root" ] || for dir in "$list_root"/*/; do [ ! -d "$dir" ] || basename "$dir"; done
    ;;
  pids | end)
    valid_runner "${1:-}" || { echo "layerlab-terminals: not a runner tag: ${1:-}" >&2; exit 2; }
    [ -z "${2:-}" ] || valid_session "$2" || { echo "layerlab-terminals: not a session id: $2" >&2; exit 2; }
    if [ "$command" = pids ]; then pids_in "$@"; else end "$@"; fi
    ;;
  *)
    echo 'usage: layerlab-terminals runners | pids RUNNER [SESSION] | end RUNNER [SESSION]' >&2
    exit 2
    ;;
esac
