import { randomBytes } from 'node:crypto';

/**
 * Everything a test run creates on an engine carries the label `layerlab.test=<run id>`.
 * The id starts with the pid of the process that owns the run, so a later run can tell
 * the leftovers of a run that died (pid gone) from those of one still going.
 */
export const testLabel = 'layerlab.test';

export function newTestRunId(): string {
  return `${process.pid}-${randomBytes(3).toString('hex')}`;
}

export function isRunAlive(runId: string): boolean {
  const pid = Number(runId.split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
