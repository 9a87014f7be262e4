import type Docker from 'dockerode';
import type { Instance, SandboxLimits } from '../settings.js';

/**
 * How the sandbox gets the rights a Docker engine needs.
 * - `least-privilege` (tried first, everywhere): the capabilities measured as needed (see
 *   `sandboxCapabilities`), a seccomp profile that blocks what no engine needs, /proc/sys
 *   read-only except for networking, /sys read-only, no extra devices.
 * - `privileged`: `--privileged`, only on an engine that refuses the narrower set.
 */
export type PrivilegeMode = 'least-privilege' | 'privileged';

export const privilegeModes: readonly PrivilegeMode[] = ['least-privilege', 'privileged'];

/**
 * Bumped whenever the rights a new sandbox gets change, so `course up` recreates an older
 * sandbox (its volumes, and so images and files, are kept) instead of leaving it wider open.
 */
export const sandboxRightsVersion = '5';

export const sandboxLabels = {
  role: 'layerlab.role',
  privilege: 'layerlab.privilege',
  rightsVersion: 'layerlab.rights-version',
  /** A random id given to the nested engine at creation; the runner talks only to an engine that shows it. */
  engineId: 'layerlab.engine-id',
} as const;

export const sandboxHostname = 'sandbox';

/**
 * The capabilities of the sandbox, each measured by removing it and running the lessons'
 * commands (test/integration/sandbox-rights.test.ts runs them under exactly this set):
 * - Docker's default set (CHOWN … AUDIT_WRITE): what a container on any Docker host has.
 *   The nested engine can only hand its containers what the sandbox holds, so without
 *   these a learner's `RUN apt-get`, `USER 1000` or `ping` would fail inside.
 *   MKNOD among them: runc creates /dev/null and friends in every nested container.
 * - SYS_ADMIN: mount (overlay2, /proc of nested containers), namespaces, cgroups. Without
 *   it dockerd's start fails (`mount: /sys/fs/cgroup/blkio: permission denied`).
 * - NET_ADMIN: bridges, veth pairs and iptables NAT for nested networking. Without it
 *   dockerd fails (`failed to create NAT chain DOCKER`).
 * - SYS_PTRACE: `docker exec` into a container whose process runs as another user
 *   (`USER 1000`, `--user`): runc opens that process's /proc/<pid>/ns files, which the
 *   kernel allows across users only with it. Without it: "error executing setns process".
 *   The sandbox sees only its own processes (its own PID namespace), and learners' shells
 *   drop it.
 * Not granted (all were granted before): SYS_MODULE, SYS_RAWIO, SYS_TIME, SYS_BOOT,
 * SYS_NICE, SYS_PACCT, SYS_TTY_CONFIG, SYSLOG, DAC_READ_SEARCH, LINUX_IMMUTABLE,
 * IPC_LOCK, IPC_OWNER, LEASE, WAKE_ALARM, BLOCK_SUSPEND, AUDIT_CONTROL, AUDIT_READ,
 * MAC_ADMIN, MAC_OVERRIDE, NET_BROADCAST, BPF, PERFMON, CHECKPOINT_RESTORE, SYS_RESOURCE.
 */
export const sandboxCapabilities = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID',
  'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
  'SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE',
] as const;

/**
 * What the learner's shells drop on top (runner/images/sandbox/learner.sh): the engine
 * needs these, a person at a prompt does not. Without them a shell can neither remount the
 * read-only /proc/sys, nor mount a fresh /proc or cgroup hierarchy, nor change the
 * sandbox's device rules or network setup, nor trace the engine or its plugin.
 */
export const learnerDroppedCapabilities = ['SYS_ADMIN', 'NET_ADMIN', 'MKNOD', 'SYS_PTRACE'] as const;

/** Kernel settings that are per network namespace, which the nested engine sets for its containers. */
const writableProcSys = 'net';
/** Every other folder of /proc/sys (global kernel settings) is mounted read-only; absent ones are skipped. */
const readonlyProcSys = ['abi', 'crypto', 'debug', 'dev', 'fs', 'kernel', 'user', 'vm', 'sunrpc', 'fscache'].map((name) => `/proc/sys/${name}`);

/** Docker's own defaults for a container, so /proc and /sys show no more than usual. */
const maskedPaths = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
const readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sysrq-trigger', ...readonlyProcSys];

/**
 * The sandbox's seccomp profile: everything is allowed except calls no Docker engine needs
 * and that reach the host kernel (modules, kexec, clocks, swap, raw I/O, file handles by
 * number, userfaultfd, perf). Docker's default profile cannot be used: it blocks the
 * session keyring, which runc joins for every nested container ("unable to join session
 * keyring: operation not permitted").
 */
export const sandboxSeccompProfile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    {
      names: [
        'init_module', 'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load', 'reboot',
        'settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'clock_adjtime', 'clock_adjtime64', 'adjtimex',
        'swapon', 'swapoff', 'acct', 'iopl', 'ioperm', 'open_by_handle_at', 'userfaultfd', 'perf_event_open',
        'lookup_dcookie', 'nfsservctl', 'vhangup', 'uselib', 'create_module', 'get_kernel_syms', 'query_module',
        'syslog', 'kcmp', 'process_vm_writev',
      ],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 1,
    },
  ],
};

export function sandboxContainerOptions(
  instance: Instance,
  image: string,
  limits: SandboxLimits,
  mode: PrivilegeMode,
  socketGid: number,
  engineId: string,
): Docker.ContainerCreateOptions {
  return {
    name: instance.containerName,
    Image: image,
    Hostname: sandboxHostname,
    Env: [`LAYERLAB_SOCKET_GID=${socketGid}`, `LAYERLAB_ENGINE_ID=${engineId}`],
    Labels: {
      ...instance.labels,
      [sandboxLabels.role]: 'sandbox',
      [sandboxLabels.privilege]: mode,
      [sandboxLabels.rightsVersion]: sandboxRightsVersion,
      [sandboxLabels.engineId]: engineId,
    },
    HostConfig: {
      Mounts: [
        { Type: 'volume', Source: instance.volumeName, Target: '/var/lib/docker' },
        { Type: 'volume', Source: instance.homeVolumeName, Target: '/root' },
        { Type: 'bind', Source: instance.socketDir, Target: '/run/layerlab' },
      ],
      Memory: limits.memoryBytes,
      // No swap beyond the memory limit: a runaway build should stop, not thrash the laptop.
      MemorySwap: limits.memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pids,
      // Docker's init as PID 1 reaps what the learner's processes leave: a process whose
      // parent dies is handed to PID 1, and dockerd there never reaps it, so the zombies of
      // ended terminals and fork bombs kept their places in the shells' process cap for good.
      Init: true,
      ...privilegeOptions(mode),
    },
  };
}

function privilegeOptions(mode: PrivilegeMode): Docker.HostConfig {
  if (mode === 'privileged') return { Privileged: true };
  return {
    CapDrop: ['ALL'],
    CapAdd: [...sandboxCapabilities],
    SecurityOpt: [
      `seccomp=${JSON.stringify(sandboxSeccompProfile)}`,
      // Docker's AppArmor profile forbids mount, which the nested engine needs; where
      // AppArmor is not enabled (as on many hosts) this option does nothing.
      'apparmor=unconfined',
    ],
    MaskedPaths: maskedPaths,
    ReadonlyPaths: readonlyPaths,
  } as Docker.HostConfig;
}

/** The limits a container was created with, read back from the engine. */
export function limitsOf(hostConfig: Docker.HostConfig): SandboxLimits {
  return {
    memoryBytes: hostConfig.Memory ?? 0,
    cpus: (hostConfig.NanoCpus ?? 0) / 1e9,
    pids: hostConfig.PidsLimit ?? 0,
  };
}

export function sameLimits(a: SandboxLimits, b: SandboxLimits): boolean {
  return a.memoryBytes === b.memoryBytes && a.cpus === b.cpus && a.pids === b.pids;
}
