/**
 * How the sandbox is doing, in the words `course status` prints and the page shows.
 * Listed from the most to the least urgent: a sandbox with several problems shows the first.
 */
export type SandboxHealth = 'not-created' | 'stopped' | 'engine-not-answering' | 'disk-nearly-full' | 'at-process-limit' | 'healthy';

export const sandboxHealthOrder: readonly SandboxHealth[] = ['not-created', 'stopped', 'engine-not-answering', 'disk-nearly-full', 'at-process-limit', 'healthy'];

export const sandboxHealthLabels: Record<SandboxHealth, string> = {
  'not-created': 'not created',
  stopped: 'stopped',
  'engine-not-answering': 'unhealthy: its Docker engine is not answering',
  'disk-nearly-full': 'unhealthy: your machine\'s disk is nearly full',
  'at-process-limit': 'unhealthy: at its process limit',
  healthy: 'healthy',
};

/** Warn while this much is still free on the disk the sandbox's data lives on, or this share of it. */
export const diskWarningFreeBytes = 5 * 1000 ** 3;
export const diskWarningFreeShare = 0.1;

/** Disk figures of a running sandbox. */
export interface SandboxDisk {
  /** What the sandbox's engine stores (images, containers, volumes, build cache): its /var/lib/docker; null when not measured (the page's quick status). */
  dockerDataBytes: number | null;
  /** The file system that holds it, on the learner's machine. */
  hostTotalBytes: number;
  hostFreeBytes: number;
  /** A cap on the sandbox's data, or null where the machine's storage cannot enforce one. */
  capBytes: number | null;
  /** Why there is no cap (or what enforces it), in a sentence. */
  capNote: string;
}

export function isDiskNearlyFull(disk: Pick<SandboxDisk, 'hostTotalBytes' | 'hostFreeBytes'>): boolean {
  return disk.hostFreeBytes < diskWarningFreeBytes || disk.hostFreeBytes < disk.hostTotalBytes * diskWarningFreeShare;
}
