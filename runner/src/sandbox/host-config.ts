import type Docker from 'dockerode';
import type { Instance, SandboxLimits } from '../settings.js';

/**
 * How the sandbox gets the rights a Docker engine needs.
 * - `privileged`: `--privileged`, the usual way, where the engine allows it.
 * - `capabilities`: every capability but CAP_SYS_RESOURCE, no seccomp or AppArmor profile and
 *   unmasked /proc and /sys paths. For engines whose own bounding set lacks CAP_SYS_RESOURCE,
 *   where `--privileged` fails with "unable to apply caps: operation not permitted".
 */
export type PrivilegeMode = 'privileged' | 'capabilities';

export const privilegeModes: readonly PrivilegeMode[] = ['privileged', 'capabilities'];

export const sandboxLabels = {
  role: 'layerlab.role',
  privilege: 'layerlab.privilege',
} as const;

export const sandboxHostname = 'sandbox';

export function sandboxContainerOptions(
  instance: Instance,
  image: string,
  limits: SandboxLimits,
  mode: PrivilegeMode,
  socketGid: number,
): Docker.ContainerCreateOptions {
  return {
    name: instance.containerName,
    Image: image,
    Hostname: sandboxHostname,
    Env: [`LAYERLAB_SOCKET_GID=${socketGid}`],
    Labels: { ...instance.labels, [sandboxLabels.role]: 'sandbox', [sandboxLabels.privilege]: mode },
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
      ...privilegeOptions(mode),
    },
  };
}

function privilegeOptions(mode: PrivilegeMode): Docker.HostConfig {
  if (mode === 'privileged') return { Privileged: true };
  return {
    CapAdd: ['ALL'],
    CapDrop: ['SYS_RESOURCE'],
    // Without these, nested containers fail: seccomp blocks the session keyring, masked
    // /proc/sys paths block the network setup. AppArmor is a no-op where it is not enabled.
    SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
    // What the CLI's `--security-opt systempaths=unconfined` sends to the API.
    MaskedPaths: [],
    ReadonlyPaths: [],
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
