import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import type { SandboxStatus } from '../../runner/src/sandbox/status.js';
import type { Instance } from '../../runner/src/settings.js';
import { runCourse } from '../support/run-course.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { instanceFor } from '../support/sandbox-env.js';

/** `course status` on the shared test sandbox: its health, process counts and disk figures, as text and JSON. */
let engine: Engine;
let instance: Instance;
let env: Record<string, string>;

beforeAll(async () => {
  engine = await connectEngine();
  env = inject('sandboxEnv');
  instance = instanceFor(env);
});

async function statusJson(): Promise<SandboxStatus> {
  const result = await runCourse(['status', '--json'], env);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as SandboxStatus;
}

describe('course status', () => {
  it('says a working sandbox is healthy, with its process counts against their caps and its disk figures', async () => {
    const status = await statusJson();
    expect(status.health).toEqual({ word: 'healthy', label: 'healthy', problems: [] });
    const { sandbox, containers, shells } = status.processes!;
    expect(sandbox!.max).toBe(4096); // the test sandbox's limit
    expect(containers!.max).toBe(3072);
    expect(shells!.max).toBe(512);
    expect(sandbox!.current).toBeGreaterThan(0);
    const disk = status.disk!;
    expect(disk.dockerDataBytes).toBeGreaterThan(100e6); // the base images loaded inside
    expect(disk.hostFreeBytes).toBeGreaterThan(0);
    expect(disk.hostTotalBytes).toBeGreaterThan(disk.hostFreeBytes);
    expect(disk.capBytes).toBeNull();
    expect(disk.capNote).toMatch(/^No cap on the sandbox's data: it is a volume on .+\. Layerlab warns once less than 5 GB or 10% of it is free\.$/);

    const text = await runCourse(['status'], env);
    expect(text.stdout).toMatch(/^Health {10}healthy$/m);
    expect(text.stdout).toMatch(/^Processes {7}sandbox \d+ of 4096, containers \d+ of 3072, shells \d+ of 512$/m);
    expect(text.stdout).toMatch(/^Disk {12}the sandbox stores [\d.]+ [kMG]?B; [\d.]+ [kMG]?B of [\d.]+ [kMG]?B free on the disk that holds it$/m);
    expect(text.stdout).toContain('No cap on the sandbox\'s data');
  });

  it('says the engine is not answering while the sandbox\'s dockerd is frozen', async () => {
    // The container's main process is Docker's init; dockerd is its only child.
    const initPid = (await engine.docker.getContainer(instance.containerName).inspect()).State.Pid;
    const dockerdPid = Number((await readFile(`/proc/${initPid}/task/${initPid}/children`, 'utf8')).trim().split(/\s+/)[0]);
    expect(readFileSync(`/proc/${dockerdPid}/comm`, 'utf8').trim()).toBe('dockerd');
    process.kill(dockerdPid, 'SIGSTOP');
    let status: SandboxStatus;
    try {
      status = await statusJson();
    } finally {
      process.kill(dockerdPid, 'SIGCONT');
    }
    expect(status.sandbox.state).toBe('running');
    expect(status.health.word).toBe('engine-not-answering');
    expect(status.health.label).toBe('unhealthy: its Docker engine is not answering');
    expect(status.health.advice).toContain('course stop');
  });

  it('says the sandbox is at its process limit while a fork bomb fills the containers\' cap, and healthy again once it is removed', async () => {
    try {
      const started = await execInSandbox(engine, instance, [
        'docker run -d --name status-bomb busybox:latest sh -c "b() { b | b & }; b; sleep 600" >/dev/null',
        'f=/sys/fs/cgroup/pids/learner; [ -d $f ] || f=/sys/fs/cgroup/learner',
        'for i in $(seq 1 150); do [ "$(cat $f/pids.current)" -ge $(( $(cat $f/pids.max) - 8 )) ] && break; sleep 0.2; done',
      ].join('\n'));
      expect(started.exitCode, started.stderr).toBe(0);
      const status = await statusJson();
      expect(status.health.word).toBe('at-process-limit');
      expect(status.health.problems[0]).toMatch(/containers run \d+ of their 3072 processes/);
      const text = await runCourse(['status'], env);
      expect(text.stdout).toMatch(/^Health {10}unhealthy: at its process limit$/m);
      expect(text.stdout).toContain('docker rm -f');
    } finally {
      await execInSandbox(engine, instance, 'docker rm -f status-bomb >/dev/null 2>&1');
    }
    expect((await statusJson()).health.word).toBe('healthy');
  });
});
