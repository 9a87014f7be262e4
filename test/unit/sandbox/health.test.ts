import { describe, expect, it } from 'vitest';
import { isDiskNearlyFull, sandboxHealthLabels } from '../../../runner/src/contract/index.js';
import { judgeHealth, type HealthFacts } from '../../../runner/src/sandbox/status.js';

const GB = 1000 ** 3;
const roomyDisk = { dockerDataBytes: 3 * GB, hostTotalBytes: 250 * GB, hostFreeBytes: 70 * GB, capBytes: null, capNote: 'No cap.' };
const calm = { sandbox: { current: 40, max: 4096 }, containers: { current: 3, max: 3072 }, shells: { current: 2, max: 512 } };
const running: HealthFacts = { state: 'running', isAnswering: true, processes: calm, disk: roomyDisk };

describe('the sandbox\'s health', () => {
  it('is healthy when the engine answers, no cap is reached and the disk has room', () => {
    expect(judgeHealth(running)).toEqual({ word: 'healthy', label: 'healthy', problems: [] });
  });

  it('says the engine is not answering, and what to do', () => {
    const health = judgeHealth({ ...running, isAnswering: false });
    expect(health.word).toBe('engine-not-answering');
    expect(health.label).toBe('unhealthy: its Docker engine is not answering');
    expect(health.advice).toContain('course stop');
  });

  it('says a cap is reached when containers or shells fill theirs (a fork bomb), naming the counts', () => {
    const bomb = judgeHealth({ ...running, processes: { ...calm, containers: { current: 3068, max: 3072 } } });
    expect(bomb.word).toBe('at-process-limit');
    expect(bomb.label).toBe('unhealthy: at its process limit');
    expect(bomb.problems[0]).toContain('containers run 3068 of their 3072 processes');
    expect(bomb.advice).toContain('docker rm -f');
    expect(judgeHealth({ ...running, processes: { ...calm, shells: { current: 512, max: 512 } } }).problems[0]).toContain('your shells run 512 of their 512');
    expect(judgeHealth({ ...running, processes: { ...calm, sandbox: { current: 4090, max: 4096 } } }).word).toBe('at-process-limit');
    // Well below a cap is not at it.
    expect(judgeHealth({ ...running, processes: { ...calm, containers: { current: 3000, max: 3072 } } }).word).toBe('healthy');
  });

  it('warns before the disk fills: under 5 GB free, or under 10% of the disk', () => {
    const low = judgeHealth({ ...running, disk: { ...roomyDisk, hostFreeBytes: 4 * GB } });
    expect(low.word).toBe('disk-nearly-full');
    expect(low.problems[0]).toBe('Only 4 GB of 250 GB is free on the disk the sandbox stores its data on (the sandbox uses 3 GB).');
    expect(low.advice).toContain('docker system prune');
    expect(isDiskNearlyFull({ hostTotalBytes: 1000 * GB, hostFreeBytes: 90 * GB })).toBe(true); // 9%
    expect(isDiskNearlyFull({ hostTotalBytes: 1000 * GB, hostFreeBytes: 110 * GB })).toBe(false);
    expect(isDiskNearlyFull({ hostTotalBytes: 20 * GB, hostFreeBytes: 5 * GB })).toBe(false);
  });

  it('lists every problem, the most urgent first', () => {
    const health = judgeHealth({
      state: 'running',
      isAnswering: false,
      processes: { ...calm, containers: { current: 3072, max: 3072 } },
      disk: { ...roomyDisk, hostFreeBytes: 1 * GB },
    });
    expect(health.word).toBe('engine-not-answering');
    expect(health.problems).toHaveLength(3);
    expect(health.problems[1]).toMatch(/^Only 1 GB/);
    expect(health.problems[2]).toMatch(/^At the process limit/);
  });

  it('is the state for a stopped or missing sandbox, with no figures', () => {
    expect(judgeHealth({ state: 'stopped', isAnswering: false, processes: undefined, disk: undefined })).toMatchObject({ word: 'stopped', label: sandboxHealthLabels.stopped });
    expect(judgeHealth({ state: 'absent', isAnswering: false, processes: undefined, disk: undefined })).toMatchObject({ word: 'not-created', advice: 'Run `course up` to create it.' });
  });
});
