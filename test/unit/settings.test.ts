import { describe, expect, it } from 'vitest';
import { UserError } from '../../runner/src/errors.js';
import { checkLimitsFitHost, defaultLimits, formatBytes, parseCpus, parseMemory, parsePids, resolveInstance } from '../../runner/src/settings.js';

const GiB = 1024 ** 3;

describe('resolveInstance', () => {
  it('names the learner\'s sandbox, volumes and socket folder after the default instance', () => {
    const instance = resolveInstance({ HOME: '/home/ada', XDG_DATA_HOME: '/home/ada/.data' });
    expect(instance).toMatchObject({
      name: 'layerlab',
      containerName: 'layerlab-sandbox',
      volumeName: 'layerlab-docker-data',
      homeVolumeName: 'layerlab-home',
      dataDir: '/home/ada/.data/layerlab',
      socketPath: '/home/ada/.data/layerlab/sandboxes/layerlab/docker.sock',
      labels: { 'layerlab.instance': 'layerlab' },
    });
  });

  it('labels a test instance with its run id, so leftovers can be found', () => {
    const instance = resolveInstance({ LAYERLAB_INSTANCE: 'll-test-1-ab', LAYERLAB_DATA_DIR: '/tmp/x', LAYERLAB_TEST_RUN: '1-ab' });
    expect(instance.containerName).toBe('ll-test-1-ab-sandbox');
    expect(instance.labels).toEqual({ 'layerlab.instance': 'll-test-1-ab', 'layerlab.test': '1-ab' });
  });

  it('rejects an instance name the engine would refuse, as a usage error', () => {
    expect(() => resolveInstance({ LAYERLAB_INSTANCE: 'Bad Name!' })).toThrow(UserError);
  });

  it('refuses a data folder so deep that the socket path cannot be bound', () => {
    const deep = `/tmp/${'d'.repeat(100)}`;
    expect(() => resolveInstance({ LAYERLAB_DATA_DIR: deep })).toThrow(/too long for a unix socket/);
  });
});

describe('limits', () => {
  it('defaults to 4 GiB and 2 CPUs, but never more than half the memory or the CPUs there are', () => {
    expect(defaultLimits(24 * GiB, 2)).toEqual({ memoryBytes: 4 * GiB, cpus: 2, pids: 4096 });
    expect(defaultLimits(6 * GiB, 1)).toEqual({ memoryBytes: 3 * GiB, cpus: 1, pids: 4096 });
    expect(defaultLimits(1 * GiB, 8).memoryBytes).toBe(GiB);
  });

  it.each([
    ['4g', 4 * GiB],
    ['2048m', 2 * GiB],
    ['1.5g', 1.5 * GiB],
    ['3GiB', 3 * GiB],
    [String(2 * GiB), 2 * GiB],
  ])('reads --memory %s', (text, bytes) => {
    expect(parseMemory(text)).toBe(bytes);
  });

  it.each(['lots', '4 gigs', '-1g', '512m'])('refuses --memory %s with a usage error', (text) => {
    expect(() => parseMemory(text)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('reads CPU and process counts and refuses nonsense', () => {
    expect(parseCpus('1.5')).toBe(1.5);
    expect(() => parseCpus('0')).toThrow(UserError);
    expect(parsePids('2048')).toBe(2048);
    expect(() => parsePids('10')).toThrow(UserError);
    expect(() => parsePids('1e3.5')).toThrow(UserError);
  });

  it('formats sizes the way people read them', () => {
    expect(formatBytes(4 * GiB)).toBe('4 GiB');
    expect(formatBytes(1.5 * GiB)).toBe('1.5 GiB');
    expect(formatBytes(512 * 1024 ** 2)).toBe('512 MiB');
  });
});

describe('checkLimitsFitHost', () => {
  const host = { memory: 24 * GiB, cpus: 2 };
  const refusal = (limits: Parameters<typeof checkLimitsFitHost>[0]) => {
    try {
      checkLimitsFitHost(limits, host.memory, host.cpus);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('accepts what the machine has, up to all of it', () => {
    expect(refusal({ cpus: 2, memoryBytes: 24 * GiB })).toBeUndefined();
    expect(refusal({})).toBeUndefined();
  });

  it('refuses more CPUs than the machine has, saying how many it has and that nothing changed', () => {
    const error = refusal({ cpus: 3 });
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe('--cpus 3 is more than this machine has (2 CPUs).');
    expect((error as UserError).nextStep).toBe('Give at most --cpus 2. Your sandbox was not changed.');
  });

  it('refuses more memory than the machine has, suggesting half of it', () => {
    const error = refusal({ memoryBytes: 99999999 * GiB });
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe('--memory 99999999 GiB is more than this machine has (24 GiB).');
    expect((error as UserError).nextStep).toBe('Give at most half of it, e.g. --memory 12g. Your sandbox was not changed.');
  });
});
